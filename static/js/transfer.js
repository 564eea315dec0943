/* The operation page's transfer panel: live progress and history of the CEN transfer.
 *
 * The numbers always come from the status endpoint. A `transfer.*` event on the
 * operation's group says when to fetch them again; while a run is queued or running
 * the page also asks every few seconds, so it stays live even where the worker's
 * events cannot reach this process (the in-memory channel layer).
 */
"use strict";

(function () {
  const config = window.Cencomm.jsonScript("transfer-config");
  if (!config) return;
  const { CencommSocket, format } = window.Cencomm;
  const T = config.strings;
  const lang = document.documentElement.lang || "en";
  const POLL_MS = 2000;
  // The stylesheet's existing badges, by run state.
  const BADGE = { queued: "badge-status-planned", running: "badge-status-active", reconciled: "badge-status-transferred", failed: "badge-seizure-rejected" };
  let pollTimer = null;
  let fetching = false;
  let again = false;

  function number(value) {
    return Number(value || 0).toLocaleString(lang);
  }

  function moment(value) {
    return value ? new Date(value).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" }) : "—";
  }

  function progressText(run) {
    return format(T.progress, {
      batches: number(run.batches_done),
      sent: number(run.sent),
      validated: number(run.validated),
      inserted: number(run.inserted),
      present: number(run.already_present),
      rate: number(Math.round(run.rows_per_second)),
    });
  }

  function renderLive(runs) {
    const live = document.getElementById("transfer-live");
    const active = runs.find((run) => run.state === "queued" || run.state === "running");
    live.replaceChildren();
    if (!active) return;
    const line = document.createElement("p");
    const badge = Object.assign(document.createElement("span"), { className: `badge ${BADGE[active.state] || ""}`, textContent: active.state_label });
    badge.dataset.transferState = active.state;
    const text = document.createElement("span");
    text.dataset.transferProgress = "";
    text.textContent = ` ${progressText(active)}`;
    line.append(badge, text);
    const bar = document.createElement("progress");
    bar.max = Math.max(active.validated, 1);
    bar.value = active.sent;
    bar.dataset.transferBar = "";
    live.append(line, bar);
  }

  function cell(text) {
    const td = document.createElement("td");
    td.textContent = text;
    return td;
  }

  function renderHistory(runs) {
    const body = document.querySelector("#transfer-history tbody");
    const columns = document.querySelectorAll("#transfer-history thead th").length;
    body.replaceChildren();
    if (!runs.length) {
      const row = document.createElement("tr");
      const td = cell(T.none);
      td.colSpan = columns;
      td.className = "muted";
      row.append(td);
      body.append(row);
      return;
    }
    runs.forEach((run) => {
      const row = document.createElement("tr");
      row.dataset.run = run.run;
      row.title = run.summary;
      const state = document.createElement("td");
      state.append(Object.assign(document.createElement("span"), { className: `badge ${BADGE[run.state] || ""}`, textContent: run.state_label }));
      row.append(
        cell(`#${run.run}`),
        state,
        cell(run.via_label),
        cell(moment(run.queued_at)),
        cell(moment(run.finished_at)),
        cell(number(run.batches_done)),
        cell(number(run.sent)),
        cell(number(run.inserted)),
        cell(number(run.updated)),
        cell(number(run.already_present)),
        cell(number(run.left_behind)),
        cell(number(Math.round(run.rows_per_second))),
      );
      if (run.report_url) {
        const td = document.createElement("td");
        td.append(Object.assign(document.createElement("a"), { href: run.report_url, textContent: T.report }));
        row.append(td);
      }
      body.append(row);
    });
  }

  // The coordinator's link to the confirmation page: there while a transfer (or a
  // follow-up transfer, once seizures are validated late) can be started.
  function renderStart(data) {
    const row = document.getElementById("transfer-start-row");
    if (!row) return;
    row.replaceChildren();
    if (!data.can_start) return;
    row.append(Object.assign(document.createElement("a"), {
      id: "transfer-start",
      className: "button button-primary",
      href: config.startUrl,
      textContent: data.status === "transferred" ? T.follow_up : T.transfer,
    }));
  }

  function renderNotices(data) {
    const standing = document.getElementById("transfer-standing");
    if (standing) {
      standing.textContent = data.standing;
      standing.dataset.notInCen = String(data.validated_not_in_cen);
      standing.hidden = !data.standing;
    }
    const waiting = document.getElementById("transfer-waiting");
    if (waiting) {
      waiting.textContent = data.worker_notice;
      waiting.hidden = !data.waiting_for_worker;
    }
  }

  async function refresh() {
    if (fetching) {
      again = true;
      return;
    }
    fetching = true;
    window.clearTimeout(pollTimer);
    let active = false;
    try {
      const response = await fetch(config.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const data = await response.json();
      active = data.active;
      renderLive(data.runs);
      renderHistory(data.runs);
      renderStart(data);
      renderNotices(data);
      document.body.dataset.transferVersion = String(Number(document.body.dataset.transferVersion || 0) + 1);
    } finally {
      fetching = false;
      if (again) {
        again = false;
        refresh();
      } else if (active) {
        pollTimer = window.setTimeout(refresh, POLL_MS);
      }
    }
  }

  const socket = new CencommSocket({
    cursors: { [config.group]: config.cursor },
    onEvent(group, event) {
      if (group === config.group && (event.event.startsWith("transfer.") || event.event === "operation.status" || event.event.startsWith("seizure."))) refresh();
    },
    onState(state) {
      if (state === "online") refresh();
    },
  });
  refresh();
  socket.connect();
})();
