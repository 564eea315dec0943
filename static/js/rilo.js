/* The RILO page's charts, from the page's JSON data block: months as columns, counts
 * per administration as bars, and shares on a 0–100 scale (so that 40 % looks like
 * 40 %, not like the best administration's share). */
"use strict";

(function () {
  const source = document.getElementById("rilo-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const { bars, columns } = window.CencommCharts;
  const language = document.documentElement.lang || "en";
  const numberFormat = new Intl.NumberFormat(language, { maximumFractionDigits: 1 });
  const percent = (value) => `${numberFormat.format(value)} %`;
  const monthFormat = new Intl.DateTimeFormat(language, { month: "short", year: "2-digit", timeZone: "UTC" });
  // Where a month's column is narrow (a phone, a long period), "01/26" instead of "janv. 26".
  const narrowMonthFormat = new Intl.DateTimeFormat(language, { month: "2-digit", year: "2-digit", timeZone: "UTC" });

  function monthLabel(key, narrow) {
    const [year, month] = key.split("-").map(Number);
    return (narrow ? narrowMonthFormat : monthFormat).format(new Date(Date.UTC(year, month - 1, 1)));
  }

  function draw() {
    document.querySelectorAll("[data-rilo-chart]").forEach((container) => {
      let rows = data[container.dataset.riloChart] || [];
      const kind = container.dataset.kind;
      const caption = container.closest("section").querySelector("h2").textContent;
      const labels = Object.fromEntries(rows.map((row) => [row.key, row.label || row.key]));
      const narrow = container.clientWidth / Math.max(rows.length, 1) < 56;
      const labelFor = kind === "months" ? (key) => monthLabel(key, narrow) : (key) => labels[key] || key;
      // A chart of nothing but zeros says nothing: it says so in words instead.
      if (kind !== "percent" && rows.every((row) => !row.total)) rows = [];
      const options = { labelFor, caption, strings: data.strings };
      if (kind === "percent") bars(container, rows, { ...options, scale: 100, format: percent });
      else (kind === "months" ? columns : bars)(container, rows, options);
      window.CencommFitLabels(container);
    });
    document.body.dataset.riloVersion = String(Number(document.body.dataset.riloVersion || 0) + 1);
  }

  window.addEventListener("cencomm:redraw", draw);
  draw();
})();
