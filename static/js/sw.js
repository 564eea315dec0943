/* CENcomm service worker: keeps the seizure form usable without a connection.
 *
 * Pages are fetched from the network first and kept in the cache; when the network
 * is down, the last copy is served. Only GET requests of the platform's own origin are
 * cached, never the websocket or any POST.
 */
"use strict";

const CACHE = "cencomm-v2";
const ASSETS = ["/static/css/cencomm.css", "/static/js/socket.js", "/static/js/seizure_form.js", "/static/img/favicon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key)))).then(() => self.clients.claim()),
  );
});

// The form page asks for itself and what it loads to be kept: its first load came
// before this worker controlled it, and an officer may go offline right after it.
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep") return;
  const reply = (kept) => event.ports[0] && event.ports[0].postMessage({ kept });
  const requests = (event.data.urls || []).map((url) => new Request(url, { credentials: "same-origin" })).filter(cacheable);
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => Promise.all(requests.map((request) => cache.match(request, { ignoreVary: true }).then((hit) => hit || cache.add(request)))))
      .then(() => reply(true), () => reply(false)),
  );
});

function cacheable(request) {
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return false;
  return url.pathname.startsWith("/static/") || /\/operations\/[^/]+\/seizures\/new\/$/.test(url.pathname);
}

self.addEventListener("fetch", (event) => {
  if (!cacheable(event.request)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && !response.redirected) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      // The page varies on the language and the session, which a request made here
      // does not carry as the browser's own navigation does: match on the address.
      .catch(() => caches.match(event.request, { ignoreVary: true }).then((cached) => cached || Response.error())),
  );
});
