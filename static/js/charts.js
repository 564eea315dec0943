/* Small SVG charts: horizontal bars for categories, columns for days.
 * Each bar shows validated and awaiting-validation seizures stacked, with its number
 * written next to it, so the chart reads at a glance and in a screen reader (a table
 * with the same numbers sits behind every chart).
 *
 * Right to left (Arabic) the charts are mirrored: labels on the right, bars growing to
 * the left, days from right to left. The drawing's own direction stays left to right,
 * so that each text is anchored where it is meant to be and never runs under a bar;
 * each label still reads in its own script's direction.
 */
"use strict";

(function () {
  const SVG = "http://www.w3.org/2000/svg";

  const RTL = document.documentElement.dir === "rtl";
  const FLIP = { start: "end", end: "start", middle: "middle" };

  // Positions are computed left to right; a mirror turns them for a right-to-left page.
  function mirror(width) {
    return {
      x: (x, w = 0) => (RTL ? width - x - w : x),
      anchor: (anchor) => (RTL ? FLIP[anchor] : anchor),
    };
  }

  function chartSvg(width, height) {
    return node("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-hidden": "true", class: "chart-svg", direction: "ltr" });
  }

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
    const svg = chartSvg(width, rows.length * rowHeight + 4);
    const m = mirror(width);
    rows.forEach((row, index) => {
      const y = index * rowHeight + 2;
      const bar = (barLength, className) =>
        node("rect", { x: m.x(labelWidth, barLength), y: y + 4, width: barLength, height: rowHeight - 10, rx: 3, class: className });
      const total = length(row.total);
      // data-room: how wide the label may be (chart_labels.js cuts a longer one).
      svg.append(node("text", { x: m.x(labelWidth - 8), y: y + 18, "text-anchor": m.anchor("end"), class: "chart-label", "data-room": labelWidth - 10 }, labelFor(row.key)));
      if (scale) svg.append(bar(barWidth, "bar-track"));
      if (row.validated === undefined) {
        svg.append(bar(total, "bar-validated"));
      } else {
        svg.append(bar(Math.max(total, 1), "bar-submitted"), bar(length(row.validated), "bar-validated"));
      }
      const valueX = labelWidth + (scale ? barWidth : total) + 6;
      svg.append(node("text", { x: m.x(valueX), y: y + 18, "text-anchor": m.anchor("start"), class: "chart-value", "data-key": row.key }, format ? format(row.total) : number(row.total)));
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
    const svg = chartSvg(width, height);
    const m = mirror(width);
    svg.append(node("line", { x1: 10, x2: width - 10, y1: plot + 10, y2: plot + 10, class: "chart-axis" }));
    rows.forEach((row, index) => {
      const w = step * 0.7;
      const x = m.x(10 + index * step + step * 0.15, w);
      const total = (row.total / max) * (plot - 16);
      const validated = (row.validated / max) * (plot - 16);
      svg.append(node("rect", { x, y: plot + 10 - total, width: w, height: Math.max(total, 1), rx: 2, class: "bar-submitted" }));
      svg.append(node("rect", { x, y: plot + 10 - validated, width: w, height: validated, rx: 2, class: "bar-validated" }));
      svg.append(node("text", { x: x + w / 2, y: plot + 4 - total, "text-anchor": "middle", class: "chart-value", "data-key": row.key }, number(row.total)));
      svg.append(node("text", { x: x + w / 2, y: height - 8, "text-anchor": "middle", class: "chart-label chart-label-small" }, labelFor(row.key)));
    });
    container.append(svg, table(rows, caption, labelFor, strings));
  }

  function number(value) {
    return window.CencommFormats ? window.CencommFormats.number(value) : String(value);
  }

  window.CencommCharts = { bars, columns };
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    window.clearTimeout(resizeTimer);
    resizeTimer = window.setTimeout(() => window.dispatchEvent(new Event("cencomm:redraw")), 200);
  });
})();
