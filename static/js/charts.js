/* Small SVG charts: horizontal bars for categories, columns for days.
 * Each bar shows validated and awaiting-validation seizures stacked, with its number
 * written next to it, so the chart reads at a glance and in a screen reader (a table
 * with the same numbers sits behind every chart).
 */
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  function node(name, attributes, text) {
    const element = document.createElementNS(SVG, name);
    Object.entries(attributes || {}).forEach(([key, value]) => element.setAttribute(key, value));
    if (text !== undefined) element.textContent = text;
    return element;
  }

  function table(rows, caption, labelFor, strings, format) {
    const element = document.createElement("table");
    element.className = "visually-hidden chart-table";
    const cap = document.createElement("caption");
    cap.textContent = caption;
    element.append(cap);
    rows.forEach((row) => {
      const tr = document.createElement("tr");
      const th = document.createElement("th");
      th.scope = "row";
      th.textContent = labelFor(row.key);
      const td = document.createElement("td");
      td.textContent = format ? format(row.total) : `${row.total} (${strings.validated}: ${row.validated})`;
      tr.append(th, td);
      element.append(tr);
    });
    return element;
  }

  /* Horizontal bars. By default scaled to the largest row, validated stacked on the
   * total; with `scale` (e.g. 100 for shares) every bar is drawn on a track of that
   * length, and `format` writes the values (e.g. as a percentage). A row without
   * `validated` is one plain bar. */
  function bars(container, rows, { labelFor, caption, strings, scale, format }) {
    container.replaceChildren();
    if (!rows.length) {
      container.append(Object.assign(document.createElement("p"), { className: "muted", textContent: strings.empty }));
      return;
    }
    const rowHeight = 28;
    // Drawn at the container's own width, so that text keeps its size on any screen.
    const width = Math.max(260, container.clientWidth || 460);
    const labelWidth = Math.min(170, Math.round(width * 0.38));
    const barWidth = width - labelWidth - (format ? 60 : 50);
    const max = scale || Math.max(...rows.map((row) => row.total));
    const length = (value) => (Math.min(value, max) / max) * barWidth;
    const svg = node("svg", { viewBox: `0 0 ${width} ${rows.length * rowHeight + 4}`, role: "img", "aria-hidden": "true", class: "chart-svg" });
    rows.forEach((row, index) => {
      const y = index * rowHeight + 2;
      const bar = (barLength, className) =>
        node("rect", { x: labelWidth, y: y + 4, width: barLength, height: rowHeight - 10, rx: 3, class: className });
      const total = length(row.total);
      svg.append(node("text", { x: labelWidth - 8, y: y + 18, "text-anchor": "end", class: "chart-label" }, labelFor(row.key)));
      if (scale) svg.append(bar(barWidth, "bar-track"));
      if (row.validated === undefined) {
        svg.append(bar(total, "bar-validated"));
      } else {
        svg.append(bar(Math.max(total, 1), "bar-submitted"), bar(length(row.validated), "bar-validated"));
      }
      const valueX = labelWidth + (scale ? barWidth : total) + 6;
      svg.append(node("text", { x: valueX, y: y + 18, class: "chart-value", "data-key": row.key }, format ? format(row.total) : String(row.total)));
    });
    container.append(svg, table(rows, caption, labelFor, strings, format));
  }

  function columns(container, rows, { labelFor, caption, strings }) {
    container.replaceChildren();
    if (!rows.length) {
      container.append(Object.assign(document.createElement("p"), { className: "muted", textContent: strings.empty }));
      return;
    }
    const height = 200;
    const width = Math.max(container.clientWidth || 460, rows.length * 34 + 40);
    const plot = height - 40;
    const max = Math.max(...rows.map((row) => row.total));
    const step = (width - 20) / rows.length;
    const svg = node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-hidden": "true", class: "chart-svg" });
    svg.append(node("line", { x1: 10, x2: width - 10, y1: plot + 10, y2: plot + 10, class: "chart-axis" }));
    rows.forEach((row, index) => {
      const x = 10 + index * step + step * 0.15;
      const w = step * 0.7;
      const total = (row.total / max) * (plot - 16);
      const validated = (row.validated / max) * (plot - 16);
      svg.append(node("rect", { x, y: plot + 10 - total, width: w, height: Math.max(total, 1), rx: 2, class: "bar-submitted" }));
      svg.append(node("rect", { x, y: plot + 10 - validated, width: w, height: validated, rx: 2, class: "bar-validated" }));
      svg.append(node("text", { x: x + w / 2, y: plot + 4 - total, "text-anchor": "middle", class: "chart-value", "data-key": row.key }, String(row.total)));
      svg.append(node("text", { x: x + w / 2, y: height - 8, "text-anchor": "middle", class: "chart-label chart-label-small" }, labelFor(row.key)));
    });
    container.append(svg, table(rows, caption, labelFor, strings));
  }

  window.CencommCharts = { bars, columns };
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => window.dispatchEvent(new Event("cencomm:redraw")), 200);
  });
})();
