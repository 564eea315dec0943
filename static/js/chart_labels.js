/* Bar labels that fit: a label longer than the room beside its bar is cut with "…",
 * and the whole of it stays in a tooltip (and in the table behind the chart). The room
 * is the label's `data-room` when the chart gives it (charts.js, on either side of the
 * bars), else what lies left of its anchor. */
"use strict";

(function () {
  function fitLabels(container) {
    container.querySelectorAll("svg text.chart-label[data-room], svg text.chart-label[text-anchor='end']").forEach((label) => {
      const room = label.hasAttribute("data-room") ? Number(label.getAttribute("data-room")) : Number(label.getAttribute("x")) - 2;
      const full = label.textContent;
      if (room <= 0 || label.getComputedTextLength() <= room) return;
      let cut = full.length;
      while (cut > 1 && label.getComputedTextLength() > room) {
        cut -= 1;
        label.textContent = `${full.slice(0, cut).trimEnd()}…`;
      }
      const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
      title.textContent = full;
      label.append(title);
    });
  }

  window.CencommFitLabels = fitLabels;
})();
