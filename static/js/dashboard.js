/* The live dashboard: numbers from the server, refreshed whenever a seizure event arrives. */
"use strict";

(function () {
  const { CencommSocket, jsonScript } = window.Cencomm;
  const { bars, columns } = window.CencommCharts;
  const config = jsonScript("dashboard-config");
  const T = jsonScript("client-strings");
  // One format per language, as the server writes it (static/js/formats.js).
  const Formats = window.CencommFormats;
  const strings = { empty: T.noSeizures, validated: T.validated };
  let countries = {};
  let refreshTimer = null;
  let refreshing = false;
  let again = false;
  let lastData = null;

  function labelFor(vocabulary) {
    if (vocabulary === "countries") return (key) => countries[key] || key;
    if (!vocabulary) {
      return (key) => Formats.dayMonth(key);
    }
    return (key) => (config.labels[vocabulary] || {})[key] || key;
  }

  function renderLatest(latest) {
    const list = document.getElementById("latest");
    list.replaceChildren();
    latest.forEach((seizure) => {
      const item = document.createElement("li");
      item.className = `latest-item status-${seizure.status}`;
      const link = document.createElement("a");
      link.href = config.seizureUrl.replace("00000000-0000-0000-0000-000000000000", seizure.uuid);
      const category = config.labels.commodity_category[seizure.commodity_category] || seizure.commodity_category;
      const unit = config.labels.unit[seizure.unit] || seizure.unit;
      link.textContent = `${category}: ${Formats.number(seizure.quantity)} ${unit} — ${seizure.commodity_description}`;
      const meta = document.createElement("span");
      meta.className = "muted";
      const route = [seizure.departure_country, ...(seizure.transit_countries || []), seizure.destination_country].filter(Boolean).join(" → ");
      meta.textContent = ` ${seizure.reporting_country} · ${seizure.place}${route ? ` · ${route}` : ""} · ${T[`seizure_${seizure.status}`] || seizure.status}`;
      item.append(link, meta);
      list.append(item);
    });
  }

  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      const response = await fetch(config.dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      countries = data.countries;
      const total = data.status.submitted + data.status.validated;
      document.getElementById("stat-total").textContent = Formats.number(total);
      document.getElementById("stat-validated").textContent = Formats.number(data.status.validated);
      document.getElementById("stat-submitted").textContent = Formats.number(data.status.submitted);
      document.getElementById("stat-rejected").textContent = Formats.number(data.status.rejected);
      lastData = data;
      draw(data);
      renderLatest(data.latest);
      document.body.dataset.dashboardVersion = String(Number(document.body.dataset.dashboardVersion || 0) + 1);
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        refresh();
      }
    }
  }

  function draw(data) {
    document.querySelectorAll("[data-chart]").forEach((container) => {
      const rows = data[container.dataset.chart];
      const caption = container.closest("section").querySelector("h2").textContent;
      const drawChart = container.dataset.kind === "columns" ? columns : bars;
      drawChart(container, rows, { labelFor: labelFor(container.dataset.vocabulary), caption, strings });
      // A label longer than its room is cut, whole in its tooltip (chart_labels.js).
      window.CencommFitLabels(container);
    });
  }

  window.addEventListener("cencomm:redraw", () => {
    if (lastData) draw(lastData);
  });

  function refreshSoon() {
    window.clearTimeout(refreshTimer);
    refreshTimer = window.setTimeout(refresh, 250);
  }

  const socket = new CencommSocket({
    cursors: { [config.group]: config.cursor },
    onEvent(group, event) {
      if (group === config.group && event.event.startsWith("seizure.")) refreshSoon();
    },
    onState(state) {
      const connection = document.getElementById("connection");
      if (connection) {
        connection.dataset.state = state;
        connection.textContent = { online: T.online, connecting: T.connecting, offline: T.offline, ended: T.offline }[state];
      }
      if (state === "online") refreshSoon();
    },
  });
  refresh();
  socket.connect();
})();
