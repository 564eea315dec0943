// Starts Redoc on the API docs page with the schema named by the page (no inline script:
// the platform's Content-Security-Policy allows only scripts served by the platform).
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  if (!container || typeof Redoc === "undefined") {
    return;
  }
  Redoc.init(
    container.dataset.schemaUrl,
    {
      // The search index is built in a worker started from a blob: URL, which the
      // policy's worker-src 'self' refuses; the menu lists every operation anyway.
      disableSearch: true,
      hideDownloadButton: false,
    },
    container
  );
})();
