/* Notifications on this device, for the group page.
 *
 * The member chooses, per group, the kinds they want to hear of (alerts, seizure
 * reports, messages that mention them): the choices are theirs on every device and go
 * to the server (/api/v1/groups/{slug}/notifications/). Turning notifications on for
 * this device asks the browser's permission (on that click) and, where the server sends
 * Web Push, subscribes the device (/api/v1/push-subscriptions/), so that it hears of
 * them when no page is open (static/js/sw.js shows those). While a page is open but
 * hidden, a chosen event on its socket shows a system notification here. Both carry the
 * same tag per group, so one replaces the other rather than showing twice.
 * Logging out forgets the device (static/js/outbox.js, forgetDevice).
 */
"use strict";

(function () {
  const { format, jsonScript } = window.Cencomm;
  const config = jsonScript("page-config");
  const T = jsonScript("client-strings");
  const panel = document.getElementById("notify-panel");
  const DEVICE_KEY = "cencomm.notify.device";
  const choices = Object.assign({}, config.notifyGroups || {});
  const supported = "Notification" in window;
  const pushSupported = Boolean(config.webPush && config.vapidKey && "serviceWorker" in navigator && "PushManager" in window);

  // What the page showed, for whoever needs to know (the browser tests read it); the
  // group page hands every event of its socket to onEvent.
  const hook = { shown: [], onEvent };
  window.cencommNotifications = hook;

  function deviceOn() {
    try {
      return window.localStorage.getItem(DEVICE_KEY) === config.user;
    } catch (error) {
      return false;
    }
  }

  function setDevice(on) {
    try {
      if (on) window.localStorage.setItem(DEVICE_KEY, config.user);
      else window.localStorage.removeItem(DEVICE_KEY);
    } catch (error) {
      /* private mode: the choice lasts as long as the page */
    }
  }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function api(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
      let detail = response.statusText;
      try {
        detail = (await response.json()).error.detail || detail;
      } catch (error) {
        /* not JSON */
      }
      throw new Error(detail);
    }
    return response.status === 204 ? null : response.json();
  }

  /* ---- what is worth a notification -------------------------------------------- */

  function textOf(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent || "";
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  // The same rule as the server's (messaging/posting.py, mentioned_usernames).
  function mentionsMe(html) {
    const name = escapeRegExp(config.user);
    return new RegExp(`(^|[^\\w.@+-])@${name}(?![\\w@+-]|\\.[\\w@+-])`).test(textOf(html));
  }

  function kindOf(event) {
    const data = event.data || {};
    if (event.event === "seizure.reported") return "seizures";
    if (event.event !== "message.created") return null;
    if (data.kind === "alert") return "alerts";
    return mentionsMe(data.html) ? "mentions" : null;
  }

  function groupUrl(group) {
    return config.groupUrl.replace("SLUG", encodeURIComponent(group));
  }

  async function show(group, kind) {
    const title = format(T.notifyTitle, { group });
    const options = {
      body: T[`notify_${kind}`],
      tag: `cencomm:${group}`,
      renotify: true,
      icon: "/static/img/icon-192.png",
      data: { url: groupUrl(group) },
    };
    hook.shown.push({ group, kind, title, body: options.body });
    try {
      const registration = "serviceWorker" in navigator ? await navigator.serviceWorker.getRegistration() : null;
      if (registration) {
        await registration.showNotification(title, options);
        return;
      }
    } catch (error) {
      /* shown by the page instead */
    }
    const notification = new Notification(title, options);
    notification.addEventListener("click", () => {
      window.focus();
      if (group !== config.group) window.location.href = groupUrl(group);
      notification.close();
    });
  }

  function onEvent(group, event) {
    if (!supported || Notification.permission !== "granted" || !deviceOn()) return;
    if (document.visibilityState === "visible") return;
    if ((event.data || {}).author === config.user) return;
    // Whatever goes wrong here must not keep the page from showing the event.
    try {
      const kind = kindOf(event);
      if (kind && choices[group] && choices[group][kind]) show(group, kind).catch(() => {});
    } catch (error) {
      /* no notification */
    }
  }

  /* ---- the device -------------------------------------------------------------- */

  function keyBytes(base64url) {
    const base64 = (base64url + "=".repeat((4 - (base64url.length % 4)) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (char) => char.charCodeAt(0));
  }

  async function subscribePush() {
    const registration = await navigator.serviceWorker.ready;
    let subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      subscription = await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(config.vapidKey) });
    }
    const json = subscription.toJSON();
    await api("POST", config.pushUrl, { endpoint: json.endpoint, keys: json.keys });
  }

  async function unsubscribePush() {
    const registration = await navigator.serviceWorker.getRegistration();
    const subscription = registration && (await registration.pushManager.getSubscription());
    if (!subscription) return;
    await api("DELETE", config.pushUrl, { endpoint: subscription.endpoint }).catch(() => {});
    await subscription.unsubscribe();
  }

  function drawDevice(status) {
    const button = document.getElementById("notify-device");
    const on = supported && Notification.permission === "granted" && deviceOn();
    button.textContent = on ? T.notifyDeviceOff : T.notifyDeviceOn;
    button.setAttribute("aria-pressed", String(on));
    let text = status;
    if (!text) {
      if (!supported) text = T.notifyUnsupported;
      else if (Notification.permission === "denied") text = T.notifyBlocked;
      else if (on) text = pushSupported ? T.notifyOnWithPush : T.notifyOnPageOnly;
      else text = T.notifyOff;
    }
    document.getElementById("notify-status").textContent = text;
  }

  async function toggleDevice() {
    if (!supported) return drawDevice();
    if (Notification.permission === "granted" && deviceOn()) {
      setDevice(false);
      if (pushSupported) await unsubscribePush().catch(() => {});
      return drawDevice();
    }
    // Asked on the member's click: browsers refuse a request made without one.
    const permission = await Notification.requestPermission();
    if (permission !== "granted") return drawDevice();
    setDevice(true);
    if (pushSupported) {
      try {
        await subscribePush();
      } catch (error) {
        return drawDevice(format(T.notifyPushFailed, { detail: error.message }));
      }
    }
    return drawDevice();
  }

  /* ---- the choices ------------------------------------------------------------- */

  async function choose(input) {
    const status = document.getElementById("notify-status");
    input.disabled = true;
    try {
      const saved = await api("PUT", config.notificationsUrl, { [input.name]: input.checked });
      choices[config.group] = saved;
      status.textContent = T.notifySaved;
    } catch (error) {
      input.checked = !input.checked;
      status.textContent = format(T.notifySaveFailed, { detail: error.message });
    } finally {
      input.disabled = false;
    }
  }

  if (panel) {
    const mine = choices[config.group] || {};
    panel.querySelectorAll("input[data-notify-choice]").forEach((input) => {
      input.checked = Boolean(mine[input.name]);
      input.addEventListener("change", () => choose(input));
    });
    document.getElementById("notify-device").addEventListener("click", () => toggleDevice().catch((error) => drawDevice(error.message)));
    drawDevice();
    // A device that is on keeps its registration: the server forgets it when a login
    // session ends, and the member may have logged in again since.
    if (pushSupported && supported && Notification.permission === "granted" && deviceOn()) {
      subscribePush().catch(() => {});
    }
  }
})();
