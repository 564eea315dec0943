/* The CEN analyst's charts: counts of transferred seizures from the data endpoint,
 * for the filters in the page's address, drawn with the platform's own charts. */
"use strict";

(function () {
  const config = window.Cencomm.jsonScript("analyst-config");
  if (!config) return;
  const { bars, columns } = window.CencommCharts;
  let countries = {};
  let lastData = null;

  function labelFor(vocabulary) {
    if (vocabulary === "countries") return (key) => countries[key] || key;
    if (!vocabulary) return (key) => key;
    return (key) => (config.labels[vocabulary] || {})[key] || key;
  }

  function draw(data) {
    document.querySelectorAll("[data-chart]").forEach((container) => {
      const rows = data[container.dataset.chart] || [];
      const caption = container.closest("section").querySelector("h2").textContent;
      const drawChart = container.dataset.kind === "columns" ? columns : bars;
      drawChart(container, rows, { labelFor: labelFor(container.dataset.vocabulary), caption, strings: config.strings });
    });
  }

  async function load() {
    const response = await fetch(config.dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const data = await response.json();
    countries = data.countries || {};
    lastData = data;
    draw(data);
    document.body.dataset.analystVersion = String(Number(document.body.dataset.analystVersion || 0) + 1);
  }

  window.addEventListener("cencomm:redraw", () => {
    if (lastData) draw(lastData);
  });
  load();
})();
