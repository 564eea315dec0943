/* CENcomm service worker: keeps the seizure form usable without a connection.
 *
 * Pages are fetched from the network first and kept in the cache; when the network
 * is down, the last copy is served. Only GET requests of the platform's own origin are
 * cached, never the websocket or any POST.
 */
"use strict";

const CACHE = "cencomm-v1";
const ASSETS = ["/static/css/cencomm.css", "/static/js/socket.js", "/static/js/seizure_form.js", "/static/img/favicon.svg"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys().then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key)))).then(() => self.clients.claim()),
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
      .catch(() => caches.match(event.request).then((cached) => cached || Response.error())),
  );
});
