/* The simplified seizure form, online or not.
 *
 * Every report is first written to IndexedDB with its client_uuid, then sent. If the
 * connection is down (or drops mid-request) it stays queued and is sent when the
 * browser comes back online; the server stores each client_uuid once, so sending twice
 * is harmless. A service worker (static/js/sw.js) keeps the page itself available
 * offline.
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
  const STORE = "seizures";
  let flushing = false;
  let loginNeeded = false;

  function openDb() {
    return new Promise((resolve, reject) => {
      if (!window.indexedDB) {
        reject(new Error("no indexedDB"));
        return;
      }
      const request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = () => {
        const store = request.result.createObjectStore(STORE, { keyPath: "client_uuid" });
        store.createIndex("by_user", "user");
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
    put: (record) => withStore("readwrite", (store) => store.put(record)),
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
    formErrors.hidden = false;
    const first = form.querySelector("[aria-invalid='true']");
    if (first) first.focus();
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
          await queue.remove(record.client_uuid);
          announceSent(outcome.body);
        } else if (outcome.kind === "invalid") {
          record.errors = outcome.fields;
          await queue.put(record);
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
          form.elements.namedItem("client_uuid").value = record.client_uuid;
          showFieldErrors(record.errors);
          await queue.remove(record.client_uuid);
          render();
        });
        item.append(detail, edit);
      }
      queueList.append(item);
    });
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formErrors.hidden = true;
    done.hidden = true;
    const record = {
      client_uuid: form.elements.namedItem("client_uuid").value || newClientId(),
      user: config.user,
      operation: config.operation,
      submitUrl: config.submitUrl,
      data: formData(),
      saved_at: new Date().toISOString(),
    };
    try {
      await queue.put(record);
    } catch (error) {
      // No IndexedDB (private mode in some browsers): send directly, as a plain form would.
      form.submit();
      return;
    }
    form.reset();
    form.elements.namedItem("client_uuid").value = newClientId();
    form.elements.namedItem("seizure_date").value = record.data.seizure_date;
    form.elements.namedItem("reporting_country").value = record.data.reporting_country;
    if (!navigator.onLine) {
      done.textContent = T.saved;
      done.hidden = false;
    }
    await flush();
    const stillQueued = (await queue.all()).find((item) => item.client_uuid === record.client_uuid);
    if (stillQueued && stillQueued.errors) {
      fillForm(stillQueued.data);
      form.elements.namedItem("client_uuid").value = stillQueued.client_uuid;
      showFieldErrors(stillQueued.errors);
      await queue.remove(stillQueued.client_uuid);
      render();
    } else if (stillQueued) {
      done.textContent = T.saved;
      done.hidden = false;
    }
  });

  document.getElementById("queue-send").addEventListener("click", flush);
  window.addEventListener("online", flush);
  window.setInterval(() => {
    if (navigator.onLine) flush();
  }, 30000);

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/sw.js").catch(() => {});
  }
  form.elements.namedItem("client_uuid").value = form.elements.namedItem("client_uuid").value || newClientId();
  render().then(flush);
})();
