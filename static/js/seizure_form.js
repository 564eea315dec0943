/* The simplified seizure form, online or not.
 *
 * Every report is first written to IndexedDB with its client_uuid, then sent. If the
 * connection is down (or drops mid-request) it stays queued and is sent when the
 * browser comes back online; the server stores each client_uuid once, so sending twice
 * is harmless. A service worker (static/js/sw.js) keeps the page itself available
 * offline.
 *
 * The client_uuid is made here, on the device, at the moment of "Report": never taken
 * from the page, which the service worker may serve from its cache long after the
 * server rendered it (the id there is for the form without JavaScript only). Queued
 * items are keyed by a number IndexedDB allocates, so storing one can never replace
 * another, whatever their client_uuids.
 */
"use strict";

(function () {
  const { newClientId, format, jsonScript } = window.Cencomm;
  const config = jsonScript("form-config");
  const T = jsonScript("offline-strings");
  const form = document.getElementById("seizure-form");
  const queueBox = document.getElementById("offline-queue");
  const queueStatus = document.getElementById("queue-status");
  const queueList = document.getElementById("queue-list");
  const done = document.getElementById("form-done");
  const formErrors = document.getElementById("form-errors");
  const DB_NAME = "cencomm-offline";
  const STORE = "queue";
  const OLD_STORE = "seizures"; // version 1, keyed by client_uuid
  const submitButton = document.getElementById("seizure-submit");
  const idField = form.elements.namedItem("client_uuid");
  let flushing = false;
  let submitting = false;
  let loginNeeded = false;

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
        // A second item with the same client_uuid is refused, never written over the first.
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

  async function withStore(mode, action) {
    const db = await openDb();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const result = action(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(result && "result" in result ? result.result : undefined);
      transaction.onerror = () => reject(transaction.error);
    });
  }

  const queue = {
    add: (record) => withStore("readwrite", (store) => store.add(record)),
    // Only for a record read from the store: its local_id names the item it replaces.
    update: (record) => withStore("readwrite", (store) => store.put(record)),
    remove: (key) => withStore("readwrite", (store) => store.delete(key)),
    all: () => withStore("readonly", (store) => store.index("by_user").getAll(config.user)),
  };

  function formData() {
    const data = {};
    new FormData(form).forEach((value, key) => {
      if (key === "csrfmiddlewaretoken" || key === "client_uuid") return;
      if (key === "transit_countries") {
        (data[key] = data[key] || []).push(value);
      } else {
        data[key] = value;
      }
    });
    return data;
  }

  function fillForm(data) {
    form.reset();
    Object.entries(data).forEach(([key, value]) => {
      const field = form.elements.namedItem(key);
      if (!field) return;
      if (field.multiple) {
        Array.from(field.options).forEach((option) => {
          option.selected = (value || []).includes(option.value);
        });
      } else {
        field.value = value;
      }
    });
  }

  function showFieldErrors(fields) {
    form.querySelectorAll("[data-error-for]").forEach((element) => {
      element.hidden = true;
      element.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((element) => element.removeAttribute("aria-invalid"));
    const general = [];
    Object.entries(fields || {}).forEach(([name, texts]) => {
      const slot = form.querySelector(`[data-error-for="${CSS.escape(name)}"]`);
      const control = form.elements.namedItem(name);
      if (slot) {
        slot.textContent = texts.join(" ");
        slot.hidden = false;
        if (control && control.setAttribute) {
          control.setAttribute("aria-invalid", "true");
          control.setAttribute("aria-describedby", slot.id);
        }
      } else {
        general.push(...texts);
      }
    });
    formErrors.textContent = general.length ? general.join(" ") : T.fixErrors;
    const first = form.querySelector("[aria-invalid='true']");
    if (first) {
      formErrors.hidden = false;
      first.scrollIntoView({ block: "center" });
      first.focus({ preventScroll: true });
    } else {
      reveal(formErrors);
    }
  }

  function csrfToken() {
    const input = form.querySelector("input[name=csrfmiddlewaretoken]");
    const cookie = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return cookie ? decodeURIComponent(cookie[1]) : input ? input.value : "";
  }

  async function send(record) {
    const response = await fetch(record.submitUrl, {
      method: "POST",
      credentials: "same-origin",
      redirect: "manual",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ client_uuid: record.client_uuid, data: record.data }),
    });
    if (response.type === "opaqueredirect" || response.status === 401 || response.status === 403) {
      const body = await response.json().catch(() => null);
      if (body && body.error && body.error.code === "forbidden") return { kind: "invalid", fields: { __all__: [body.error.detail] } };
      return { kind: "login" };
    }
    const body = await response.json().catch(() => ({}));
    if (response.ok) return { kind: "sent", body };
    if (response.status === 400) return { kind: "invalid", fields: (body.error && body.error.fields) || {} };
    return { kind: "retry" };
  }

  async function flush() {
    if (flushing) return;
    flushing = true;
    loginNeeded = false;
    try {
      const records = await queue.all();
      for (const record of records) {
        if (record.errors) continue;
        let outcome;
        try {
          outcome = await send(record);
        } catch (error) {
          break; // still offline: keep everything queued
        }
        if (outcome.kind === "sent") {
          await queue.remove(record.local_id);
          announceSent(outcome.body);
        } else if (outcome.kind === "invalid") {
          record.errors = outcome.fields;
          await queue.update(record);
        } else if (outcome.kind === "login") {
          loginNeeded = true;
          break;
        } else {
          break;
        }
      }
    } finally {
      flushing = false;
      await render();
    }
  }

  function announceSent(body) {
    done.replaceChildren(document.createTextNode(`${body.status === "duplicate" ? T.duplicate : T.sent} `));
    const link = document.createElement("a");
    link.href = body.url;
    link.textContent = T.view;
    done.append(link);
    done.hidden = false;
  }

  // After "Report" the page is scrolled to the button: the answer is shown where the
  // officer looks, and read out, so that nobody reports the same seizure twice.
  function reveal(element) {
    element.hidden = false;
    element.scrollIntoView({ block: "center" });
    element.focus({ preventScroll: true });
  }

  async function render() {
    let records = [];
    try {
      records = await queue.all();
    } catch (error) {
      return;
    }
    queueList.replaceChildren();
    const waiting = records.filter((record) => !record.errors);
    queueBox.hidden = records.length === 0 && !loginNeeded;
    queueBox.dataset.waiting = String(waiting.length);
    queueStatus.textContent = loginNeeded
      ? T.login
      : waiting.length
        ? format(T.waiting, { count: waiting.length })
        : T.none;
    records.forEach((record) => {
      const item = document.createElement("li");
      const summary = `${record.data.seizure_date || ""} · ${record.data.quantity || ""} ${record.data.unit || ""} · ${record.data.commodity_description || ""}`;
      item.append(document.createTextNode(summary));
      if (record.errors) {
        item.classList.add("needs-fix");
        const detail = document.createElement("p");
        detail.className = "field-error";
        detail.textContent = `${T.needsFix} ${Object.entries(record.errors).map(([field, texts]) => `${field}: ${texts.join(" ")}`).join("; ")}`;
        const edit = document.createElement("button");
        edit.type = "button";
        edit.className = "button button-small";
        edit.textContent = T.edit;
        edit.addEventListener("click", async () => {
          fillForm(record.data);
          showFieldErrors(record.errors);
          await queue.remove(record.local_id);
          render();
        });
        item.append(detail, edit);
      }
      queueList.append(item);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    // A double tap reports once: the second tap finds the button disabled.
    if (submitting) return;
    submitting = true;
    submitButton.disabled = true;
    try {
      await report();
    } finally {
      submitting = false;
      submitButton.disabled = false;
    }
  });

  async function report() {
    formErrors.hidden = true;
    done.hidden = true;
    // A fresh id for this report only, made now; the field carries it for the plain
    // form post below and is cleared once the report is kept.
    idField.value = newClientId();
    const record = {
      client_uuid: idField.value,
      user: config.user,
      operation: config.operation,
      submitUrl: config.submitUrl,
      data: formData(),
      saved_at: new Date().toISOString(),
    };
    try {
      record.local_id = await queue.add(record);
    } catch (error) {
      // No IndexedDB (private mode in some browsers): send directly, as a plain form would.
      form.submit();
      return;
    }
    form.reset();
    idField.value = "";
    form.elements.namedItem("seizure_date").value = record.data.seizure_date;
    form.elements.namedItem("reporting_country").value = record.data.reporting_country;
    if (!navigator.onLine) {
      done.textContent = T.saved;
      reveal(done);
    }
    await flush();
    const stillQueued = (await queue.all()).find((item) => item.local_id === record.local_id);
    if (stillQueued && stillQueued.errors) {
      fillForm(stillQueued.data);
      showFieldErrors(stillQueued.errors);
      await queue.remove(stillQueued.local_id);
      render();
    } else if (stillQueued) {
      done.textContent = T.saved;
      reveal(done);
    } else {
      // Sent: the confirmation (or "already received") is in place; take the eye to it.
      // A queue flushed in the background says so too, but leaves the focus alone.
      reveal(done);
    }
  }

  document.getElementById("queue-send").addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.setInterval(() => {
    if (navigator.onLine) flush();
  }, 30000);

  // The page and what it loads are kept for offline use from the first visit: the page
  // itself was fetched before the service worker existed, so it is handed over.
  async function keepOffline() {
    if (!("serviceWorker" in navigator)) return;
    await navigator.serviceWorker.register("/sw.js");
    const registration = await navigator.serviceWorker.ready;
    const urls = [
      window.location.href,
      ...Array.from(document.querySelectorAll("script[src]"), (element) => element.src),
      ...Array.from(document.querySelectorAll("link[rel=stylesheet][href]"), (element) => element.href),
    ];
    const channel = new MessageChannel();
    const kept = new Promise((resolve) => {
      channel.port1.onmessage = (event) => resolve(event.data && event.data.kept);
    });
    registration.active.postMessage({ type: "keep", urls }, [channel.port2]);
    if (await kept) form.dataset.offlineReady = "true";
  }

  // The id the server rendered is for the form without JavaScript; this page may come
  // from the cache, so it is dropped and each report gets its own.
  idField.value = "";
  keepOffline().catch(() => {});
  render().then(flush);
})();
