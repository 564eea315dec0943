/* The simplified seizure form, online or not.
 *
 * Every report is first written to the device's outbox (static/js/outbox.js), which
 * gives it its client_uuid, then sent. If the connection is down (or drops mid-request)
 * it waits there, in the order written with the messages of the group page, and is sent
 * when the browser comes back online; the server stores each client_uuid once, so
 * sending twice is harmless. The service worker (static/js/sw.js) keeps the page itself
 * available offline.
 *
 * The client_uuid is made on the device at the moment of "Report": never taken from
 * the page, which the service worker may serve from its cache long after the server
 * rendered it (the id there is for the form without JavaScript only).
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
  const outbox = window.CencommOutbox;
  const submitButton = document.getElementById("seizure-submit");
  const idField = form.elements.namedItem("client_uuid");
  let submitting = false;

  // This form's part of the outbox: the seizures not sent yet, in the order written.
  async function queued() {
    return (await outbox.items()).filter((item) => item.type === "seizure" && item.state !== "sent");
  }

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

  function flush() {
    return outbox.flush();
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

  // A report sent in the background (the connection came back) is announced here too.
  const unsent = new Set();
  function announce(items) {
    items.forEach((item) => {
      if (item.type !== "seizure") return;
      if (item.state !== "sent") unsent.add(item.local_id);
      else if (unsent.delete(item.local_id) && item.result) announceSent(item.result);
    });
  }

  async function render() {
    let records = [];
    try {
      records = await queued();
    } catch (error) {
      return;
    }
    queueList.replaceChildren();
    const waiting = records.filter((record) => record.state !== "refused");
    queueBox.hidden = records.length === 0 && !outbox.loginNeeded;
    queueBox.dataset.waiting = String(waiting.length);
    queueStatus.textContent = outbox.loginNeeded
      ? T.login
      : waiting.length
        ? format(T.waiting, { count: waiting.length })
        : T.none;
    records.forEach((record) => {
      const item = document.createElement("li");
      item.dataset.state = record.state;
      const summary = `${record.data.seizure_date || ""} · ${record.data.quantity || ""} ${record.data.unit || ""} · ${record.data.commodity_description || ""}`;
      item.append(document.createTextNode(summary));
      if (record.state !== "refused") {
        const state = document.createElement("span");
        state.className = "badge outbox-state";
        state.textContent = outbox.stateLabel(record);
        item.append(" ", state);
      }
      if (record.state === "refused") {
        const errors = record.errors || { __all__: [record.reason || ""] };
        item.classList.add("needs-fix");
        const detail = document.createElement("p");
        detail.className = "field-error";
        detail.textContent = `${T.needsFix} ${Object.entries(errors).map(([field, texts]) => `${field}: ${texts.join(" ")}`).join("; ")}`;
        const edit = document.createElement("button");
        edit.type = "button";
        edit.className = "button button-small";
        edit.textContent = T.edit;
        edit.addEventListener("click", async () => {
          fillForm(record.data);
          showFieldErrors(errors);
          await outbox.remove(record);
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
    const data = formData();
    let record;
    try {
      // The outbox gives the report its own id, made now on this device.
      record = await outbox.write({ type: "seizure", operation: config.operation, submitUrl: config.submitUrl, data });
    } catch (error) {
      // No IndexedDB (private mode in some browsers): send directly, as a plain form would.
      idField.value = newClientId();
      form.submit();
      return;
    }
    form.reset();
    idField.value = "";
    form.elements.namedItem("seizure_date").value = data.seizure_date;
    form.elements.namedItem("reporting_country").value = data.reporting_country;
    if (!navigator.onLine) {
      done.textContent = T.saved;
      reveal(done);
    }
    await flush();
    const stillQueued = (await queued()).find((item) => item.local_id === record.local_id);
    if (stillQueued && stillQueued.state === "refused") {
      fillForm(stillQueued.data);
      showFieldErrors(stillQueued.errors || { __all__: [stillQueued.reason || ""] });
      await outbox.remove(stillQueued);
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

  // The id the server rendered is for the form without JavaScript; this page may come
  // from the cache, so it is dropped and each report gets its own.
  idField.value = "";
  outbox.kept.then((kept) => {
    if (kept) form.dataset.offlineReady = "true";
  });
  outbox.subscribe((items) => {
    announce(items);
    render();
  });
  flush();
})();
