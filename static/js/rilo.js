/* The RILO page's charts, from the page's JSON data block: months as columns, counts
 * per administration as bars, and shares on a 0–100 scale (so that 40 % looks like
 * 40 %, not like the best administration's share). */
"use strict";

(function () {
  const source = document.getElementById("rilo-data");
  if (!source) return;
  const data = JSON.parse(source.textContent);
  const { bars, columns } = window.CencommCharts;
  const SVG = "http://www.w3.org/2000/svg";
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

  function node(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    Object.entries(attributes).forEach(([key, value]) => element.setAttribute(key, value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function percentBars(container, rows, { labelFor, caption, strings }) {
    container.replaceChildren();
    if (!rows.length) {
      container.append(Object.assign(document.createElement("p"), { className: "muted", textContent: strings.empty }));
      return;
    }
    const rowHeight = 28;
    const width = Math.max(260, container.clientWidth || 460);
    const labelWidth = Math.min(170, Math.round(width * 0.38));
    const barWidth = width - labelWidth - 60;
    const svg = node("svg", { viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: "img", "aria-hidden": "true", class: "chart-svg" });
    rows.forEach((row, index) => {
      const y = index * rowHeight + 2;
      const share = (Math.min(row.total, 100) / 100) * barWidth;
      svg.append(node("text", { x: labelWidth - 8, y: y + 18, "text-anchor": "end", class: "chart-label" }, labelFor(row.key)));
      svg.append(node("rect", { x: labelWidth, y: y + 4, width: barWidth, height: rowHeight - 10, rx: 3, fill: "#e6ebf1", class: "bar-track" }));
      svg.append(node("rect", { x: labelWidth, y: y + 4, width: share, height: rowHeight - 10, rx: 3, class: "bar-validated" }));
      svg.append(node("text", { x: labelWidth + barWidth + 6, y: y + 18, class: "chart-value", "data-key": row.key }, percent(row.total)));
    });
    const table = document.createElement("table");
    table.className = "visually-hidden chart-table";
    const cap = document.createElement("caption");
    cap.textContent = caption;
    table.append(cap);
    rows.forEach((row) => {
      const tr = document.createElement("tr");
      const th = Object.assign(document.createElement("th"), { scope: "row", textContent: labelFor(row.key) });
      const td = Object.assign(document.createElement("td"), { textContent: percent(row.total) });
      tr.append(th, td);
      table.append(tr);
    });
    container.append(svg, table);
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
      const drawChart = kind === "percent" ? percentBars : kind === "months" ? columns : bars;
      drawChart(container, rows, { labelFor, caption, strings: data.strings });
      window.CencommFitLabels(container);
    });
    document.body.dataset.riloVersion = String(Number(document.body.dataset.riloVersion || 0) + 1);
  }

  window.addEventListener("cencomm:redraw", draw);
  draw();
})();
