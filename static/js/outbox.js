/* The outbox: everything an officer writes, kept on the device until the server has it.
 *
 * Messages, replies and acknowledgements from the group page and reports from the
 * seizure form are written to one IndexedDB store before anything is sent, so that a
 * closed tab, a dead battery or a browser restart loses nothing. They are sent one at
 * a time, in the order they were written, each answered before the next goes: messages
 * and acknowledgements over the websocket, seizures to the form's JSON door. Every item
 * carries an id made here when it is written (a message's client_id, a seizure's
 * client_uuid), never one rendered into a page the service worker may have kept, so a
 * resend after a lost answer is stored once. Items are keyed by a number IndexedDB
 * allocates: storing one never replaces another.
 *
 * The same script draws the indicator in the top bar (offline, how many wait) and the
 * outbox dialog, hands the pages of the group to the service worker for offline use,
 * and wipes the device's copies at logout. Protocol: docs/protocol.md.
 */
"use strict";

(function () {
  const DB_NAME = "cencomm-offline";
  const STORE = "queue";
  const OLD_STORE = "seizures"; // version 1, keyed by client_uuid
  const PAGES_PREFIX = "cencomm-pages:";
  const ANSWER_TIMEOUT_MS = 10000;
  const SENT_KEPT = 20; // sent items stay listed, newest first, this many at most
  const SENT_KEPT_MS = 3600 * 1000;
  const UNSENT = ["waiting", "sending"];

  const root = document.getElementById("outbox");
  const user = document.body.dataset.user || "";

  /* ---- storage ------------------------------------------------------------ */

  function openDb() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) {
        reject(new Error("no indexedDB"));
        return;
      }
      const request = indexedDB.open(DB_NAME, 2);
      request.onupgradeneeded = () => {
        const db = request.result;
        const store = db.createObjectStore(STORE, { keyPath: "local_id", autoIncrement: true });
        store.createIndex("by_user", "user");
        // A second item with the same id is refused, never written over the first.
        store.createIndex("by_client_uuid", "client_uuid", { unique: true });
        if (db.objectStoreNames.contains(OLD_STORE)) {
          const old = request.transaction.objectStore(OLD_STORE);
          old.getAll().onsuccess = (event) => {
            event.target.result.forEach((record) => store.add(record));
            db.deleteObjectStore(OLD_STORE);
          };
        }
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
  }

  let dbPromise = null;
  async function withStore(mode, action) {
    dbPromise = dbPromise || openDb();
    const db = await dbPromise;
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const result = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  }

  // Items written before the outbox knew other kinds are the seizure form's.
  function normalise(item) {
    item.type = item.type || "seizure";
    item.state = item.state || (item.errors ? "refused" : "waiting");
    return item;
  }

  const store = {
    add: (item) => withStore("readwrite", (objects) => objects.add(item)),
    // Only for an item read from the store: its local_id names the item it replaces.
    update: (item) => withStore("readwrite", (objects) => objects.put(item)),
    remove: (key) => withStore("readwrite", (objects) => objects.delete(key)),
    all: async (owner) => (await withStore("readonly", (objects) => objects.index("by_user").getAll(owner))).map(normalise),
    clear: () => withStore("readwrite", (objects) => objects.clear()),
  };

  /* ---- the outbox --------------------------------------------------------- */

  function newId() {
    if (window.Cencomm) return window.Cencomm.newClientId();
    return window.crypto.randomUUID();
  }

  function csrfToken() {
    const cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (cookie) return decodeURIComponent(cookie[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  class Outbox {
    constructor(owner) {
      this.user = owner;
      this.listeners = new Set();
      this.socket = null;
      this.ownSocket = false;
      this.awaiting = null; // {match, resolve} of the frame in flight
      this.flushing = null;
      this.again = false;
      this.loginNeeded = false;
      this.retryTimer = null;
      this.channel = "BroadcastChannel" in window ? new BroadcastChannel("cencomm-outbox") : null;
      if (this.channel) this.channel.onmessage = () => this.changed(false);
    }

    items() {
      return store.all(this.user);
    }

    subscribe(listener) {
      this.listeners.add(listener);
      this.items().then(listener, () => {});
    }

    // Other tabs of this browser redraw too: the outbox is one for the whole device.
    async changed(broadcast = true) {
      if (broadcast && this.channel) this.channel.postMessage("changed");
      let items;
      try {
        items = await this.items();
      } catch (error) {
        return;
      }
      this.listeners.forEach((listener) => listener(items));
    }

    async write(fields) {
      const item = Object.assign({}, fields, {
        client_uuid: newId(),
        user: this.user,
        state: "waiting",
        saved_at: new Date().toISOString(),
      });
      item.local_id = await store.add(item);
      await this.changed();
      return item;
    }

    // Items read from another device's export: each keeps its id, so one already here
    // (or already sent from here) is not taken twice. Returns how many were taken.
    async adopt(items) {
      let added = 0;
      for (const item of items) {
        const known = await withStore("readonly", (objects) => objects.index("by_client_uuid").count(item.client_uuid));
        if (known) continue;
        await store.add(Object.assign({}, item, { user: this.user, state: "waiting" }));
        added += 1;
      }
      await this.changed();
      return added;
    }

    async update(item) {
      await store.update(item);
      await this.changed();
    }

    async remove(item) {
      await store.remove(item.local_id);
      await this.changed();
    }

    // The page's own socket, when it has one; the outbox reads its frames.
    useSocket(socket) {
      this.socket = socket;
    }

    receive(frame) {
      if (!this.awaiting) return;
      const outcome = this.awaiting.match(frame);
      if (outcome) this.awaiting.resolve(outcome);
    }

    flush() {
      if (this.flushing) {
        this.again = true;
        return this.flushing;
      }
      const run = async () => {
        do {
          this.again = false;
          await this.flushOnce();
        } while (this.again);
      };
      // One tab sends at a time: two would race each other's order.
      const locked = navigator.locks ? navigator.locks.request(`cencomm-outbox:${this.user}`, run) : run();
      this.flushing = locked.catch(() => {}).finally(() => {
        this.flushing = null;
        this.changed(false);
      });
      return this.flushing;
    }

    async flushOnce() {
      if (!this.user || !navigator.onLine) return;
      this.loginNeeded = false;
      const items = await this.items();
      for (const item of items) {
        if (!UNSENT.includes(item.state)) continue;
        item.state = "sending";
        await this.update(item);
        let outcome;
        try {
          outcome = item.type === "seizure" ? await this.sendSeizure(item) : await this.sendFrame(item);
        } catch (error) {
          outcome = { kind: "retry" };
        }
        if (outcome.kind === "sent") {
          item.state = "sent";
          item.sent_at = new Date().toISOString();
          item.result = outcome.body || null;
        } else if (outcome.kind === "refused") {
          item.state = "refused";
          item.reason = outcome.reason;
          if (outcome.fields) item.errors = outcome.fields;
        } else {
          item.state = "waiting";
        }
        await this.update(item);
        if (outcome.kind === "login") this.loginNeeded = true;
        if (outcome.kind === "retry") this.retrySoon();
        // Everything after this item waits for it: the order written is the order sent.
        if (outcome.kind === "login" || outcome.kind === "retry") break;
      }
      await this.prune();
      this.closeOwnSocket();
    }

    retrySoon() {
      if (this.retryTimer) return;
      this.retryTimer = window.setTimeout(() => {
        this.retryTimer = null;
        if (navigator.onLine) this.flush();
      }, 2000 + Math.random() * 1000);
    }

    async prune() {
      const now = Date.now();
      const sent = (await this.items()).filter((item) => item.state === "sent").reverse();
      for (const [index, item] of sent.entries()) {
        if (index >= SENT_KEPT || now - Date.parse(item.sent_at) > SENT_KEPT_MS) await store.remove(item.local_id);
      }
    }

    async sendSeizure(item) {
      const response = await fetch(item.submitUrl, {
        method: "POST",
        credentials: "same-origin",
        redirect: "manual",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify({ client_uuid: item.client_uuid, data: item.data }),
      });
      if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
        const body = await response.json().catch(() => null);
        // A stale security token (reason "csrf") is not a refusal of the report: like a
        // session that ended, it waits for the page to be reloaded or the user to log in.
        if (body && body.error && body.error.code === "forbidden" && body.error.reason !== "csrf") {
          return { kind: "refused", reason: body.error.detail, fields: { __all__: [body.error.detail] } };
        }
        return { kind: "login" };
      }
      const body = await response.json().catch(() => ({}));
      if (response.ok) return { kind: "sent", body };
      if (response.status === 400) {
        const fields = (body.error && body.error.fields) || {};
        const reason = (body.error && body.error.detail) || Object.values(fields).flat().join(" ");
        return { kind: "refused", reason, fields };
      }
      return { kind: "retry" };
    }

    // A message or an acknowledgement: one frame, and its answer before the next.
    async sendFrame(item) {
      const socket = await this.readySocket();
      if (!socket) return { kind: this.socketEnded() ? "login" : "retry" };
      const frame =
        item.type === "ack"
          ? { type: "receipt.ack", group: item.group, seq: item.seq }
          : Object.assign({ type: "message.post", group: item.group, client_id: item.client_uuid }, item.frame);
      const answer = new Promise((resolve) => {
        this.awaiting = { match: (reply) => answerTo(item, reply), resolve };
        window.setTimeout(() => resolve({ kind: "retry" }), ANSWER_TIMEOUT_MS);
      });
      if (!socket.send(frame)) {
        this.awaiting = null;
        return { kind: "retry" };
      }
      const outcome = await answer;
      this.awaiting = null;
      return outcome;
    }

    socketEnded() {
      return Boolean(this.socket && this.socket.stopped);
    }

    // Pages without a socket of their own (the seizure form) open one for the time
    // of the flush; socket.js is loaded when the page did not load it.
    async readySocket() {
      if (this.socket && this.socket.ready) return this.socket;
      if (this.socket && !this.ownSocket) return null;
      if (!this.socket) {
        await loadSocketScript();
        this.socket = new window.Cencomm.CencommSocket({
          onFrame: (frame) => this.receive(frame),
          onReady: () => this.receive({ type: "hello" }),
        });
        this.ownSocket = true;
        this.socket.connect();
      }
      return new Promise((resolve) => {
        const timer = window.setTimeout(() => {
          this.awaiting = null;
          resolve(null);
        }, ANSWER_TIMEOUT_MS);
        this.awaiting = {
          match: (frame) => frame.type === "hello" && this.socket.ready,
          resolve: () => {
            window.clearTimeout(timer);
            this.awaiting = null;
            resolve(this.socket);
          },
        };
        if (this.socket.ready) this.awaiting.resolve();
      });
    }

    closeOwnSocket() {
      if (!this.ownSocket || !this.socket) return;
      this.socket.stopped = true;
      if (this.socket.ws) this.socket.ws.close();
      this.socket = null;
      this.ownSocket = false;
    }
  }

  function answerTo(item, frame) {
    if (frame.type === "error" && (frame.code === "rate_limited" || frame.code === "unavailable")) {
      // Dropped unread, or not stored: the same frame goes again a little later.
      if (!frame.client_id || frame.client_id === item.client_uuid) return { kind: "retry" };
      return null;
    }
    if (item.type === "ack") {
      if (frame.type === "receipt.ack.ok" && frame.group === item.group && frame.seq === item.seq) return { kind: "sent" };
      if (frame.type === "error" && !frame.client_id && frame.group === item.group) return { kind: "refused", reason: frame.detail };
      return null;
    }
    if (frame.type === "message.accepted" && frame.client_id === item.client_uuid) return { kind: "sent", body: { seq: frame.seq } };
    if (frame.type === "error" && frame.client_id === item.client_uuid) return { kind: "refused", reason: frame.detail };
    return null;
  }

  let socketScript = null;
  function loadSocketScript() {
    if (window.Cencomm) return Promise.resolve();
    socketScript =
      socketScript ||
      new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = root.dataset.socketScript;
        script.onload = resolve;
        script.onerror = reject;
        document.head.append(script);
      });
    return socketScript;
  }

  /* ---- the pages kept for offline use --------------------------------------- */

  // The page that registers the worker was fetched before the worker existed: it is
  // handed over, with its siblings in the group (the group page, the seizure form, the
  // member's groups), so that all of them open offline after this one visit.
  async function keepOffline(urls, siblings) {
    if (!("serviceWorker" in navigator) || !user) return false;
    await navigator.serviceWorker.register(root.dataset.serviceWorker);
    const registration = await navigator.serviceWorker.ready;
    const channel = new MessageChannel();
    const kept = new Promise((resolve) => {
      channel.port1.onmessage = (event) => resolve(Boolean(event.data && event.data.kept));
    });
    registration.active.postMessage({ type: "keep", user, urls, siblings }, [channel.port2]);
    return kept;
  }

  function siblingUrls() {
    return Array.from(document.querySelectorAll("meta[name=cencomm-offline-page]"), (element) => new URL(element.content, window.location.href).href);
  }

  function pageUrls() {
    return [
      window.location.href.split("#")[0],
      ...Array.from(document.querySelectorAll("script[src]"), (element) => element.src),
      ...Array.from(document.querySelectorAll("link[rel=stylesheet][href], link[rel=icon][href], link[rel=manifest][href]"), (element) => element.href),
    ];
  }

  async function forgetDevice() {
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.filter((name) => name.startsWith(PAGES_PREFIX)).map((name) => caches.delete(name)));
    }
    await store.clear().catch(() => {});
    await forgetNotifications().catch(() => {});
  }

  // Nobody is signed in on this device any more: it stops receiving pushes (the server
  // forgot the subscription with the session) and showing notifications
  // (static/js/notifications.js).
  async function forgetNotifications() {
    try {
      window.localStorage.removeItem("cencomm.notify.device");
    } catch (error) {
      /* no storage: nothing kept */
    }
    if (!("serviceWorker" in navigator)) return;
    const registration = await navigator.serviceWorker.getRegistration();
    const subscription = registration && registration.pushManager ? await registration.pushManager.getSubscription() : null;
    if (subscription) await subscription.unsubscribe();
  }

  /* ---- indicator and dialog --------------------------------------------------- */

  function strings() {
    const texts = {};
    const template = document.getElementById("outbox-strings");
    if (template) template.content.querySelectorAll("[data-key]").forEach((element) => (texts[element.dataset.key] = element.textContent));
    return texts;
  }

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, (match, name) => (name in values ? String(values[name]) : match));
  }

  // An item's state in words: waiting, being sent, sent, or refused and why.
  function stateLabel(item, T = strings()) {
    if (item.state === "refused") return format(T.refused, { reason: item.reason || "" });
    return T[`state_${item.state}`] || item.state;
  }

  function summary(item) {
    if (item.type === "ack") return `#${item.seq}`;
    if (item.type === "seizure") {
      const data = item.data || {};
      return `${data.seizure_date || ""} · ${data.quantity || ""} ${data.unit || ""} · ${data.commodity_description || ""}`;
    }
    const body = (item.frame && item.frame.body) || "";
    return body.length > 120 ? `${body.slice(0, 119)}…` : body;
  }

  function drawUi(outbox) {
    const T = strings();
    const indicator = document.getElementById("outbox-indicator");
    const dialog = document.getElementById("outbox-dialog");
    const list = document.getElementById("outbox-list");
    const status = document.getElementById("outbox-status");
    let latest = [];

    function typeLabel(item) {
      if (item.type === "ack") return T.typeAck;
      if (item.type === "seizure") return T.typeSeizure;
      return item.frame && item.frame.reply_to ? T.typeReply : T.typeMessage;
    }

    function draw(items) {
      latest = items;
      const waiting = items.filter((item) => UNSENT.includes(item.state)).length;
      const refused = items.filter((item) => item.state === "refused").length;
      const offline = !navigator.onLine;
      const parts = [];
      if (offline) parts.push(T.offline);
      if (waiting) parts.push(format(T.waiting, { count: waiting }));
      if (refused) parts.push(format(T.refusedCount, { count: refused }));
      if (outbox.loginNeeded && waiting) parts.push(T.login);
      // Always there, to open the outbox (and its import) on a device where nothing waits.
      indicator.textContent = parts.length ? parts.join(" · ") : T.outbox;
      indicator.dataset.offline = String(offline);
      indicator.dataset.waiting = String(waiting);
      indicator.dataset.refused = String(refused);
      indicator.dataset.idle = String(parts.length === 0);
      document.body.dataset.network = offline ? "offline" : "online";
      status.textContent = parts.length ? parts.join(" · ") : T.allSent;
      list.replaceChildren();
      if (!items.length) {
        const empty = document.createElement("li");
        empty.className = "muted";
        empty.textContent = T.empty;
        list.append(empty);
      }
      items.forEach((item) => list.append(drawItem(item)));
    }

    function drawItem(item) {
      const entry = document.createElement("li");
      entry.className = `outbox-item outbox-${item.state}`;
      entry.dataset.state = item.state;
      entry.dataset.type = item.type;
      const head = document.createElement("strong");
      head.textContent = `${typeLabel(item)} · ${item.group || item.operation || ""}`;
      const text = document.createElement("span");
      text.textContent = ` ${summary(item)} `;
      const state = document.createElement("span");
      state.className = `badge outbox-state${item.state === "refused" ? " badge-seizure-rejected" : item.state === "sent" ? " badge-seizure-validated" : ""}`;
      state.textContent = stateLabel(item, T);
      entry.append(head, text, state);
      if (item.state === "refused") {
        const discard = document.createElement("button");
        discard.type = "button";
        discard.className = "button button-small";
        discard.textContent = T.discard;
        discard.addEventListener("click", () => {
          if (window.confirm(T.discardConfirm)) outbox.remove(item);
        });
        entry.append(" ", discard);
      }
      return entry;
    }

    indicator.addEventListener("click", () => {
      draw(latest);
      if (!dialog.open) dialog.showModal();
    });
    document.getElementById("outbox-send").addEventListener("click", () => outbox.flush());
    wireFiles(outbox, T);
    window.addEventListener("online", () => {
      draw(latest);
      outbox.flush();
    });
    window.addEventListener("offline", () => draw(latest));
    outbox.subscribe(draw);
  }

  // The outbox to a file (static/js/outbox_files.js), and a file into the outbox.
  async function exportOutbox(outbox, T, status) {
    const names = window.CencommOutboxFiles.exportItems(await outbox.items(), outbox.user);
    status.textContent = names.length ? format(T.exported, { files: names.join(", ") }) : T.nothingToExport;
    return names;
  }

  function wireFiles(outbox, T) {
    const status = document.getElementById("outbox-file-status");
    const input = document.getElementById("outbox-import-file");
    document.getElementById("outbox-export").addEventListener("click", () => exportOutbox(outbox, T, status));
    document.getElementById("outbox-import").addEventListener("click", () => input.click());
    input.addEventListener("change", async () => {
      const [file] = input.files;
      input.value = "";
      if (!file) return;
      const files = window.CencommOutboxFiles;
      try {
        const items = await files.readFile(file, outbox.user);
        const added = await outbox.adopt(items);
        status.textContent = format(T.imported, { added, already: items.length - added });
        outbox.flush();
      } catch (error) {
        const refused = error instanceof files.FileRefused;
        status.textContent = refused ? format(T[error.reason], error.values) : T.notOutbox;
      }
    });
  }

  // Logging out wipes this device's copies of the pages and the outbox; what has not
  // been sent would be lost, so the officer is told how much first, and may export it.
  function guardLogout(outbox) {
    const T = strings();
    const dialog = document.getElementById("logout-dialog");
    let leaving = null;
    async function leave() {
      await forgetDevice().catch(() => {});
      leaving.dataset.confirmed = "true";
      leaving.submit();
    }
    document.getElementById("logout-anyway").addEventListener("click", leave);
    const status = document.getElementById("logout-file-status");
    document.getElementById("logout-export").addEventListener("click", () => exportOutbox(outbox, T, status));
    document.querySelectorAll("form[data-logout]").forEach((form) => {
      form.addEventListener("submit", async (event) => {
        if (form.dataset.confirmed === "true") return;
        event.preventDefault();
        leaving = form;
        let unsent = 0;
        try {
          unsent = (await outbox.items()).filter((item) => item.state !== "sent").length;
        } catch (error) {
          unsent = 0;
        }
        if (!unsent) {
          await leave();
          return;
        }
        document.getElementById("logout-count").textContent = format(T.logoutConfirm, { count: unsent });
        status.textContent = "";
        dialog.showModal();
      });
    });
  }

  const outbox = new Outbox(user);
  outbox.stateLabel = (item) => stateLabel(item);
  outbox.kept = Promise.resolve(false);
  window.CencommOutbox = outbox;

  if (!root) return;
  if (root.dataset.forget === "true") {
    // The logged-out page: nobody is signed in on this device any more.
    forgetDevice().catch(() => {});
    return;
  }
  if (!user) return;
  drawUi(outbox);
  guardLogout(outbox);
  outbox.kept = keepOffline(pageUrls(), siblingUrls()).catch(() => false);
  outbox.kept.then((kept) => {
    if (kept) document.body.dataset.offlineReady = "true";
  });
  window.setInterval(() => {
    if (navigator.onLine) outbox.flush();
  }, 30000);
  // The group page starts the flush once its socket is up; other pages start it now.
  if (!document.getElementById("page-config")) outbox.flush();
})();
