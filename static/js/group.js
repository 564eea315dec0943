/* The group page: live history, composer with replies and attachments, receipts.
 *
 * What the officer writes here (messages, replies, acknowledgements) goes to the
 * device's outbox first (static/js/outbox.js), which sends it over this page's socket
 * in the order written, now or when the connection returns; until the server has it,
 * a message shows in the list as waiting, sending or refused.
 */
"use strict";

(function () {
  const { CencommSocket, newClientId, format, jsonScript } = window.Cencomm;
  const config = jsonScript("page-config");
  const T = jsonScript("client-strings");
  const list = document.getElementById("messages");
  const connection = document.getElementById("connection");
  const banner = document.getElementById("banner");
  const historyStatus = document.getElementById("history-status");
  const composer = document.getElementById("composer");
  const lang = document.documentElement.lang || "en";
  const outbox = window.CencommOutbox;
  const Handling = window.CencommHandling;

  const pending = new Map(); // client_id -> {element}, the previews of what is not in the list yet
  const queuedAcks = new Set(); // seqs acknowledged on this device, not yet by the server
  const acked = new Set(config.acked || []);
  let lowestSeq = null;
  let highestMessageSeq = 0;
  let moreHistory = config.more;
  let loadingHistory = false;
  let removed = false;
  let promoted = false;
  let readOnly = config.readOnly;
  let replyTo = null;
  let uploads = []; // {token, name, element}

  function el(tag, className, text) {
    const element = document.createElement(tag);
    if (className) element.className = className;
    if (text !== undefined) element.textContent = text;
    return element;
  }

  // One format per language, as the server writes it (static/js/formats.js).
  const Formats = window.CencommFormats;

  function formatTime(iso) {
    return Formats.dateTime(iso);
  }

  function formatSize(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function isWatcher(data) {
    return data.author === config.user || config.role === "coordinator";
  }

  /* ---- rendering --------------------------------------------------------- */

  function renderMessage(data) {
    const item = el("li", `message kind-${data.kind}`);
    item.id = `m-${data.seq}`;
    item.dataset.seq = data.seq;
    if (data.client_id) item.dataset.clientId = data.client_id;
    if (data.author === config.user) item.classList.add("mine");
    const head = el("div", "message-head");
    if (data.kind !== "text") head.append(el("span", `kind-badge kind-badge-${data.kind}`, T[`kind_${data.kind}`] || data.kind));
    head.append(el("strong", "author", data.author_name || data.author || "—"));
    if (data.country) head.append(el("span", "country", data.country));
    const time = el("time", "time", formatTime(data.created_at));
    time.dateTime = data.created_at;
    head.append(time);
    head.append(el("span", "seq", `#${data.seq}`));
    item.append(head);
    item.append(el("div", "handling-slot"));
    if (data.reply_to) {
      const ref = el("a", "reply-ref", format(T.inReplyTo, { seq: data.reply_to }));
      ref.href = `#m-${data.reply_to}`;
      item.append(ref);
    }
    if (data.seizure) item.append(renderSeizureCard(data.seizure));
    const body = el("div", "message-body");
    item.append(body);
    const attachments = el("ul", "attachments");
    item.append(attachments);
    item.append(el("div", "message-actions"));
    fillMessage(item, data);
    return item;
  }

  function fillMessage(item, data) {
    const body = item.querySelector(".message-body");
    const attachments = item.querySelector(".attachments");
    const actions = item.querySelector(".message-actions");
    actions.replaceChildren();
    attachments.replaceChildren();
    if (!data.retracted) item.handlingData = data;
    drawHandling(item);
    if (data.retracted) {
      item.classList.add("retracted");
      body.replaceChildren(el("em", "muted", T.retracted));
      return;
    }
    // The HTML was rendered from Markdown and sanitised with an allow-list on the server.
    if (data.kind === "seizure" && data.seizure) body.hidden = true;
    else body.innerHTML = data.html;
    (data.attachments || []).forEach((file) => {
      const link = el("a", "attachment", file.name);
      link.href = config.attachmentUrl.replace("TOKEN", encodeURIComponent(file.token));
      link.setAttribute("download", "");
      const entry = el("li");
      entry.append(link, el("span", "muted", ` ${formatSize(file.size)}`));
      if (file.handling_code && file.handling_code !== "H0") entry.append(el("span", `badge handling-badge handling-${file.handling_code}`, file.handling_code));
      if (!removed && (data.author === config.user || config.role === "coordinator" || config.role === "staff")) {
        const change = el("button", "link-button", T.handlingChange);
        change.type = "button";
        change.setAttribute("aria-label", `${T.handlingChange}: ${file.name}`);
        change.addEventListener("click", () => Handling.openDialog(file, (frame) => socket.send({ type: "attachment.handling", group: config.group, token: file.token, handling_code: frame.handling_code, handling_conditions: frame.handling_conditions }), false));
        entry.append(change);
      }
      attachments.append(entry);
    });
    if (config.canPost && !readOnly && !removed) {
      const reply = el("button", "link-button", T.reply);
      reply.type = "button";
      reply.addEventListener("click", () => startReply(data.seq));
      actions.append(reply);
    }
    if ((data.kind === "alert" || data.kind === "request") && data.author !== config.user && !removed) {
      const ack = el("button", "link-button ack-button", T.acknowledge);
      ack.type = "button";
      drawAck(ack, data.seq);
      ack.addEventListener("click", () => acknowledge(data.seq));
      actions.append(ack);
    }
    if (data.author === config.user && !removed) {
      const retract = el("button", "link-button", T.retract);
      retract.type = "button";
      retract.addEventListener("click", () => {
        if (window.confirm(T.retractConfirm)) socket.send({ type: "message.retract", group: config.group, seq: data.seq });
      });
      actions.append(retract);
    }
    if (isWatcher(data)) {
      const receipts = el("button", "link-button receipts-button", T.receiptsTitle);
      receipts.type = "button";
      receipts.addEventListener("click", () => showReceipts(data.seq));
      actions.append(receipts);
    }
  }

  function label(vocabulary, value) {
    return (config.labels[vocabulary] || {})[value] || value;
  }

  function renderSeizureCard(seizure) {
    const card = el("div", `seizure-card status-${seizure.status}`);
    const headline = el("p", "seizure-headline");
    headline.append(
      el("strong", "", `${label("commodity_category", seizure.commodity_category)}: ${Formats.number(seizure.quantity)} ${label("unit", seizure.unit)}`),
      document.createTextNode(` — ${seizure.commodity_description}`),
    );
    card.append(headline);
    const facts = el("dl", "seizure-facts");
    const route = [seizure.departure_country, ...(seizure.transit_countries || []), seizure.destination_country].filter(Boolean).join(" → ");
    const day = el("time", "seizure-date", Formats.date(seizure.seizure_date));
    day.dateTime = seizure.seizure_date;
    facts.append(el("dt", "", T.seizureDate), el("dd", "", "").appendChild(day).parentNode);
    [
      [T.place, `${seizure.place} (${label("location_type", seizure.location_type)}) · ${seizure.reporting_country}`],
      [T.route, `${route || "—"} · ${label("transport_mode", seizure.transport_mode)}`],
      [T.detection, label("detection_method", seizure.detection_method)],
    ].forEach(([term, value]) => {
      facts.append(el("dt", "", term), el("dd", "", value));
    });
    card.append(facts);
    const foot = el("p", "seizure-foot");
    foot.append(el("span", `badge badge-seizure-${seizure.status} seizure-status`, T[`seizure_${seizure.status}`] || seizure.status));
    if (config.seizureUrl) {
      const link = el("a", "seizure-link", T.openRecord);
      link.href = config.seizureUrl.replace("00000000-0000-0000-0000-000000000000", seizure.uuid);
      foot.append(document.createTextNode(" "), link);
    }
    card.append(foot);
    return card;
  }

  // The message's handling code and grading, and what the reader may do about them.
  function drawHandling(item) {
    const slot = item.querySelector(".handling-slot");
    const data = item.handlingData;
    if (!slot || !data) return;
    const actions = [];
    const coordinator = config.role === "coordinator" || config.role === "staff";
    if (data.kind !== "seizure" && !removed && (data.author === config.user || coordinator)) {
      actions.push({ label: T.handlingChange, run: () => Handling.openDialog(data, (frame) => socket.send(Object.assign({ type: "message.handling", group: config.group, seq: data.seq }, frame))) });
    }
    if (data.kind !== "seizure" && !removed && data.handling_code === "H2" && !data.released && (coordinator || (config.country && data.country === config.country))) {
      actions.push({ label: T.handlingRelease, run: () => socket.send({ type: "message.release", group: config.group, seq: data.seq }) });
    }
    slot.replaceChildren(Handling.banner(data, actions));
  }

  function updateHandling(event, data) {
    const item = data.message_seq ? document.getElementById(`m-${data.message_seq}`) : null;
    if (item && item.handlingData) {
      const current = item.handlingData;
      if (event.event === "handling.released") current.released = true;
      else if (data.item === "attachment") {
        (current.attachments || []).forEach((file) => {
          if (file.token === data.ref) Object.assign(file, { handling_code: data.handling_code, handling_conditions: data.handling_conditions });
        });
      } else {
        ["handling_code", "handling_conditions", "source_grading", "information_grading"].forEach((key) => { current[key] = data[key]; });
        if (current.seizure) Object.assign(current.seizure, { handling_code: data.handling_code, handling_conditions: data.handling_conditions });
      }
      fillMessage(item, current);
    }
    const words = event.event === "handling.released" ? T.handlingReleasedBy : T.handlingChangedBy;
    insertInOrder(renderSystem(event.seq, format(words, { user: data.by, seq: data.message_seq || "—", code: data.handling_code || "H2" })));
  }

  function updateSeizure(data) {
    const item = data.message_seq ? document.getElementById(`m-${data.message_seq}`) : null;
    if (!item || !data.seizure) return;
    const old = item.querySelector(".seizure-card");
    if (old) old.replaceWith(renderSeizureCard(data.seizure));
  }

  function renderSystem(seq, text) {
    const item = el("li", "system-line", text);
    item.dataset.seq = seq;
    return item;
  }

  function insertInOrder(item) {
    const seq = Number(item.dataset.seq);
    let after = list.lastElementChild;
    while (after && Number(after.dataset.seq) > seq) after = after.previousElementSibling;
    if (after) after.after(item);
    else list.prepend(item);
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 120;
  }

  function scrollToBottom() {
    list.scrollTop = list.scrollHeight;
  }

  function addMessage(data, { live }) {
    if (document.getElementById(`m-${data.seq}`)) return;
    const stick = nearBottom();
    const waiting = data.author === config.user && data.client_id ? pending.get(data.client_id) : null;
    const item = renderMessage(data);
    if (waiting) {
      waiting.element.remove();
      pending.delete(data.client_id);
    }
    insertInOrder(item);
    if (lowestSeq === null || data.seq < lowestSeq) lowestSeq = data.seq;
    highestMessageSeq = Math.max(highestMessageSeq, data.seq);
    if (live && (stick || data.author === config.user)) scrollToBottom();
    if (live) markReadSoon();
  }

  /* ---- events from the stream -------------------------------------------- */

  function handleEvent(event) {
    const data = event.data || {};
    switch (event.event) {
      case "message.created":
        if (!removed) addMessage(data, { live: true });
        break;
      case "seizure.reported":
        if (!removed) addMessage(data, { live: true });
        break;
      case "seizure.validated":
        updateSeizure(data);
        insertInOrder(renderSystem(event.seq, format(T.seizureValidatedBy, { user: data.by })));
        break;
      case "seizure.rejected":
        updateSeizure(data);
        insertInOrder(renderSystem(event.seq, format(T.seizureRejectedBy, { user: data.by, reason: data.reason })));
        break;
      case "seizure.corrected":
        updateSeizure(data);
        insertInOrder(renderSystem(event.seq, format(T.seizureCorrected, { user: data.by })));
        break;
      case "seizure.review_undone":
        updateSeizure(data);
        insertInOrder(renderSystem(event.seq, format(data.undone === "rejected" ? T.seizureRejectionUndone : T.seizureValidationUndone, { user: data.by })));
        break;
      case "handling.changed":
      case "handling.released":
        updateHandling(event, data);
        break;
      case "operation.status":
        insertInOrder(renderSystem(event.seq, format(T.statusChanged, { status: T[`operation_${data.status}`] || data.status })));
        break;
      case "message.retracted": {
        const item = document.getElementById(`m-${data.message_seq}`);
        if (item) fillMessage(item, { retracted: true });
        break;
      }
      case "member.added":
        insertInOrder(renderSystem(event.seq, format(T.memberAdded, { user: data.user, role: T[`role_${data.role}`] || data.role })));
        break;
      case "member.removed":
        insertInOrder(renderSystem(event.seq, format(T.memberRemoved, { user: data.user })));
        break;
      case "member.role_changed":
        insertInOrder(renderSystem(event.seq, format(T.memberRole, { user: data.user, role: T[`role_${data.role}`] || data.role })));
        break;
      case "group.status":
        insertInOrder(renderSystem(event.seq, format(T.statusChanged, { status: T[`status_${data.status}`] || data.status })));
        setReadOnly(data.status === "read_only");
        break;
      default:
        break;
    }
  }

  function bumpUnread(group) {
    const badge = document.querySelector(`[data-unread-for="${CSS.escape(group)}"]`);
    if (!badge) return;
    badge.textContent = String(Number(badge.textContent || 0) + 1);
    badge.hidden = false;
  }

  function handleFrame(frame) {
    // Answers to what the outbox sent are the outbox's: it marks each item sent or
    // refused, or sends it again a little later (rate_limited, unavailable).
    outbox.receive(frame);
    switch (frame.type) {
      case "error": {
        if (frame.code === "rate_limited" || frame.code === "unavailable" || frame.client_id) break;
        if (composer) showComposerError(frame.detail);
        break;
      }
      case "access.revoked":
        if (frame.group === config.group) {
          removed = true;
          showBanner(T.removed);
          setReadOnly(true);
          list.querySelectorAll(".message-actions").forEach((actions) => actions.replaceChildren());
        }
        break;
      case "access.changed":
        // A promotion is announced; coordinators log in with a second factor, so the
        // server may end this page's session right after (4401).
        if (frame.group === config.group && frame.role === "coordinator") {
          promoted = true;
          showBanner(T.promoted);
        }
        break;
      case "receipt":
        if (frame.group === config.group) noteReceipt(frame);
        break;
      case "receipt.ack.ok": {
        acked.add(frame.seq);
        const button = document.querySelector(`#m-${frame.seq} .ack-button`);
        if (button) drawAck(button, frame.seq);
        break;
      }
      case "resync_required":
        if (frame.group === config.group) window.location.reload();
        break;
      default:
        break;
    }
  }

  /* ---- receipts ----------------------------------------------------------- */

  const receiptTallies = new Map(); // seq -> {read: Set, ack: Set}

  function noteReceipt(frame) {
    const tally = receiptTallies.get(frame.seq) || { read: new Set(), ack: new Set() };
    tally.read.add(frame.user);
    if (frame.acknowledged) tally.ack.add(frame.user);
    receiptTallies.set(frame.seq, tally);
    const button = document.querySelector(`#m-${frame.seq} .receipts-button`);
    if (button) {
      let text = format(T.readBy, { count: tally.read.size });
      if (tally.ack.size) text += ` · ${format(T.ackBy, { count: tally.ack.size })}`;
      button.textContent = text;
    }
    const dialog = document.getElementById("receipts-dialog");
    if (dialog.open && Number(dialog.dataset.seq) === frame.seq) showReceipts(frame.seq);
  }

  async function showReceipts(seq) {
    const dialog = document.getElementById("receipts-dialog");
    const bodyElement = document.getElementById("receipts-body");
    dialog.dataset.seq = seq;
    const response = await fetch(config.receiptsUrl.replace(/\/0\/receipts\/$/, `/${seq}/receipts/`), {
      headers: { Accept: "application/json" },
      credentials: "same-origin",
    });
    if (!response.ok) return;
    const data = await response.json();
    const sections = [
      [T.acknowledged, data.acknowledged_by.map((entry) => entry.user)],
      [format(T.readBy, { count: data.read_by.length }), data.read_by],
      [T.notReadBy, data.not_read_by],
    ];
    bodyElement.replaceChildren();
    sections.forEach(([title, names]) => {
      bodyElement.append(el("h3", "", `${title} (${names.length})`));
      const ul = el("ul", "receipt-list");
      names.forEach((name) => ul.append(el("li", "", name)));
      bodyElement.append(ul);
    });
    if (!dialog.open) dialog.showModal();
  }

  /* ---- reading ------------------------------------------------------------ */

  let readTimer = null;
  let lastReadSent = 0;

  function markReadSoon() {
    if (readTimer) return;
    readTimer = window.setTimeout(() => {
      readTimer = null;
      if (document.visibilityState !== "visible" || removed) return;
      const seq = socket.cursors[config.group];
      if (seq && seq > lastReadSent && socket.send({ type: "receipt.read", group: config.group, seq })) {
        lastReadSent = seq;
      }
    }, 800);
  }

  document.addEventListener("visibilitychange", markReadSoon);

  /* ---- older history ------------------------------------------------------ */

  async function loadOlder() {
    if (loadingHistory || !moreHistory || lowestSeq === null) return;
    loadingHistory = true;
    historyStatus.textContent = T.loadingOlder;
    try {
      const response = await fetch(`${config.historyUrl}?before=${lowestSeq}`, {
        headers: { Accept: "application/json" },
        credentials: "same-origin",
      });
      if (!response.ok) return;
      const page = await response.json();
      const previousHeight = list.scrollHeight;
      page.messages.forEach((data) => addMessage(data, { live: false }));
      list.scrollTop += list.scrollHeight - previousHeight;
      moreHistory = page.more;
      historyStatus.textContent = moreHistory ? "" : T.noMoreHistory;
    } finally {
      loadingHistory = false;
    }
  }

  list.addEventListener("scroll", () => {
    if (list.scrollTop < 80) loadOlder();
  });

  /* ---- composer ----------------------------------------------------------- */

  function showBanner(text) {
    banner.textContent = text;
    banner.hidden = false;
  }

  function showComposerError(text) {
    const error = document.getElementById("composer-error");
    if (!error) return;
    error.textContent = text || "";
    // A refusal is shown where the eyes are, and read out (static/js/feedback.js).
    if (text && window.CencommFeedback) window.CencommFeedback.reveal(error);
  }

  function setReadOnly(value) {
    readOnly = value;
    if (!composer) return;
    composer.querySelectorAll("textarea, select, button, input").forEach((control) => {
      control.disabled = value;
    });
  }

  function startReply(seq) {
    replyTo = seq;
    document.getElementById("composer-reply").hidden = false;
    document.getElementById("composer-reply-text").textContent = format(T.replyingTo, { seq });
    document.getElementById("composer-kind").value = "reply";
    document.getElementById("composer-body").focus();
  }

  function cancelReply() {
    replyTo = null;
    document.getElementById("composer-reply").hidden = true;
    const kind = document.getElementById("composer-kind");
    if (kind.value === "reply") kind.value = "text";
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function upload(file) {
    showComposerError("");
    if (file.size > config.maxUpload) {
      showComposerError(T.tooLarge);
      return;
    }
    const entry = el("li", "upload", format(T.uploading, { name: file.name }));
    document.getElementById("composer-files").append(entry);
    const form = new FormData();
    form.append("file", file);
    Handling.uploadFields(form);
    try {
      const response = await fetch(config.uploadUrl, {
        method: "POST",
        body: form,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      });
      const data = await response.json().catch(() => ({}));
      if (!response.ok) {
        entry.remove();
        const detail = (data.error && data.error.detail) || response.statusText;
        showComposerError(format(T.uploadFailed, { detail }));
        return;
      }
      entry.textContent = `${data.name} (${formatSize(data.size)}) `;
      const removeButton = el("button", "link-button", T.remove);
      removeButton.type = "button";
      const record = { token: data.token, name: data.name, element: entry };
      removeButton.addEventListener("click", () => {
        uploads = uploads.filter((item) => item !== record);
        entry.remove();
      });
      entry.append(removeButton);
      uploads.push(record);
    } catch (error) {
      entry.remove();
      showComposerError(format(T.uploadFailed, { detail: T.offline }));
    }
  }

  async function send(event) {
    event.preventDefault();
    const bodyInput = document.getElementById("composer-body");
    const body = bodyInput.value.trim();
    if (!body || readOnly || removed) return;
    showComposerError("");
    const frame = Object.assign({ kind: document.getElementById("composer-kind").value, body }, Handling.composerFrame());
    if (replyTo) frame.reply_to = replyTo;
    if (uploads.length) frame.attachments = uploads.map((item) => item.token);
    // Emptied before the first await: what the user types next is not wiped with it.
    bodyInput.value = "";
    uploads.forEach((upload) => upload.element.remove());
    uploads = [];
    cancelReply();
    let item;
    try {
      // Kept on the device before anything is sent: the outbox gives it its client_id.
      item = await outbox.write({ type: "message", group: config.group, frame });
    } catch (error) {
      // No IndexedDB (private mode in some browsers): sent from this page only.
      item = { type: "message", group: config.group, frame, client_uuid: newClientId(), state: "sending" };
      socket.send(Object.assign({ type: "message.post", group: config.group, client_id: item.client_uuid }, frame));
    }
    drawPending(item);
    scrollToBottom();
    outbox.flush();
  }

  /* ---- the outbox's part of the page -------------------------------------- */

  // A message of this group not in the list yet: a preview that says where it stands.
  function drawPending(item) {
    if (item.type !== "message" || item.group !== config.group) return;
    if (list.querySelector(`.message[data-client-id="${CSS.escape(item.client_uuid)}"]`)) return;
    let waiting = pending.get(item.client_uuid);
    if (!waiting) {
      if (item.state === "sent") return;
      const element = el("li", "message mine is-pending");
      element.dataset.seq = Number.MAX_SAFE_INTEGER;
      element.dataset.pendingId = item.client_uuid;
      element.append(el("div", "message-body preview", item.frame.body));
      element.append(el("div", "pending-state muted"));
      list.append(element);
      waiting = { element };
      pending.set(item.client_uuid, waiting);
    }
    const { element } = waiting;
    element.dataset.state = item.state;
    const state = element.querySelector(".pending-state");
    if (item.state === "sent") {
      element.classList.remove("is-pending");
      state.textContent = "";
    } else if (item.state === "refused") {
      element.classList.remove("is-pending");
      element.classList.add("is-failed");
      state.textContent = format(T.failed, { detail: item.reason || "" });
    } else {
      state.textContent = item.state === "sending" ? T.sending : T.queued;
    }
  }

  function drawAck(button, seq) {
    const done = acked.has(seq);
    button.disabled = done || queuedAcks.has(seq);
    button.textContent = done ? T.acknowledged : queuedAcks.has(seq) ? `${T.acknowledge} · ${T.queued}` : T.acknowledge;
  }

  async function acknowledge(seq) {
    if (acked.has(seq) || queuedAcks.has(seq)) return;
    queuedAcks.add(seq);
    const button = document.querySelector(`#m-${seq} .ack-button`);
    if (button) drawAck(button, seq);
    try {
      await outbox.write({ type: "ack", group: config.group, seq });
    } catch (error) {
      socket.send({ type: "receipt.ack", group: config.group, seq });
    }
    outbox.flush();
  }

  function drawOutbox(items) {
    items.forEach((item) => {
      if (item.group !== config.group) return;
      if (item.type === "message") drawPending(item);
      if (item.type === "ack") {
        if (item.state === "sent") acked.add(item.seq);
        if (item.state === "waiting" || item.state === "sending") queuedAcks.add(item.seq);
        else queuedAcks.delete(item.seq);
        const button = document.querySelector(`#m-${item.seq} .ack-button`);
        if (button) drawAck(button, item.seq);
      }
    });
  }

  if (composer) {
    composer.addEventListener("submit", send);
    document.getElementById("composer-body").addEventListener("keydown", (event) => {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) send(event);
    });
    document.getElementById("composer-reply-cancel").addEventListener("click", cancelReply);
    document.getElementById("composer-file").addEventListener("change", (event) => {
      Array.from(event.target.files).forEach(upload);
      event.target.value = "";
    });
  }

  /* ---- connection --------------------------------------------------------- */

  function setConnection(state) {
    if (!connection) return;
    connection.dataset.state = state;
    connection.textContent = { online: T.online, connecting: T.connecting, offline: T.offline, ended: T.offline }[state];
    if (state === "ended") {
      showBanner(promoted ? T.promotedSignIn : T.sessionEnded);
      setReadOnly(true);
    }
    document.body.dataset.connection = state;
  }

  const socket = new CencommSocket({
    cursors: { [config.group]: config.cursor },
    onEvent(group, event) {
      if (window.cencommNotifications) window.cencommNotifications.onEvent(group, event);
      if (group === config.group) handleEvent(event);
      else if (["message.created", "seizure.reported"].includes(event.event) && event.data.author !== config.user) bumpUnread(group);
    },
    onFrame: handleFrame,
    onState: setConnection,
    onReady() {
      // Whatever was written while offline goes now; the client_id keeps it to one copy.
      outbox.flush();
      markReadSoon();
    },
  });
  outbox.useSocket(socket);

  config.messages.forEach((data) => addMessage(data, { live: false }));
  if (!moreHistory) historyStatus.textContent = T.noMoreHistory;
  outbox.subscribe(drawOutbox);
  scrollToBottom();
  socket.connect();
  window.cencommSocket = socket;
})();
