/* This device's session, as the server sees it.
 *
 * - A page running as the installed app (the manifest's standalone display) says so
 *   once per session: "My sessions" then lists the device as an installed app.
 * - A device whose session was ended from elsewhere (its owner on another device,
 *   staff, a deactivated account) wipes its outbox and kept pages the next time it is
 *   online: when its socket is closed with 4401 or the browser comes back online, the
 *   page asks the server, and an ended device goes to the login page, which wipes it
 *   (static/js/outbox.js, the same wipe as at logout; groups/middleware.py).
 */
"use strict";

(function () {
  const script = document.currentScript;
  const statusUrl = script && script.dataset.statusUrl;
  const installedUrl = script && script.dataset.installedUrl;
  const user = document.body.dataset.user || "";
  if (!statusUrl || !user) return;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (match) return decodeURIComponent(match[1]);
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function reportInstalled() {
    if (!window.matchMedia || !window.matchMedia("(display-mode: standalone)").matches) return;
    const key = "cencomm.device.installed:" + user;
    try {
      if (window.sessionStorage.getItem(key)) return;
    } catch (error) {
      /* no storage: report again, the server keeps the first */
    }
    fetch(installedUrl, { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() } })
      .then((response) => {
        if (response.ok) window.sessionStorage.setItem(key, "1");
      })
      .catch(() => {});
  }

  let checking = false;
  async function checkEnded() {
    if (checking || !navigator.onLine) return;
    checking = true;
    try {
      const response = await fetch(statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" });
      const body = await response.json();
      if (body.ended) window.location.assign(body.login);
    } catch (error) {
      /* offline again: asked at the next chance */
    } finally {
      checking = false;
    }
  }

  reportInstalled();
  window.addEventListener("online", checkEnded);
  window.addEventListener("cencomm:session-ended", checkEnded);
})();
