/* The planned operation's CEN history: counts of CEN seizures for its focus and
 * countries, given by the page (a JSON data block), drawn with the platform's charts. */
"use strict";

(function () {
  const source = document.getElementById("cen-history-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const { bars, columns } = window.CencommCharts;

  function draw() {
    document.querySelectorAll("[data-history-chart]").forEach((container) => {
      const rows = data[container.dataset.historyChart] || [];
      const labels = Object.fromEntries(rows.map((row) => [row.key, row.label]));
      const caption = container.closest("section").querySelector("h3").textContent;
      const drawChart = container.dataset.kind === "columns" ? columns : bars;
      drawChart(container, rows, { labelFor: (key) => labels[key] || key, caption, strings: data.strings });
      window.CencommFitLabels(container);
    });
    document.body.dataset.cenHistoryVersion = String(Number(document.body.dataset.cenHistoryVersion || 0) + 1);
  }

  window.addEventListener("cencomm:redraw", draw);
  draw();
})();
