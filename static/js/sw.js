/* CENcomm service worker: the pages of a group open without a connection.
 *
 * Pages (a member's groups, a group's live page, its seizure form) are fetched from
 * the network first and kept; when the network is down, or too slow to answer, the
 * last copy is served. Kept pages belong to one user: each is stored under the user
 * its own HTML names (the body's data-user), a page for another user wipes the first
 * one's copies, and logging out wipes them all (static/js/outbox.js). Scripts, styles
 * and icons are kept apart, for everyone. Only GET requests of the platform's own
 * origin are handled, never the websocket, the API or any POST.
 *
 * It also shows the Web Push notifications the server sends (no content: which group,
 * how many of each kind) and opens the group's page when one is clicked.
 */
"use strict";

const STATIC_CACHE = "cencomm-static-v3";
const PAGES_PREFIX = "cencomm-pages:";
const SLOW_NETWORK_MS = 5000;
const ASSETS = [
  "/static/css/cencomm.css",
  "/static/js/socket.js",
  "/static/js/outbox.js",
  "/static/js/feedback.js",
  "/static/js/formats.js",
  "/static/js/group.js",
  "/static/js/notifications.js",
  "/static/js/seizure_form.js",
  "/static/img/favicon.svg",
  "/static/img/icon-192.png",
  "/manifest.webmanifest",
];
const PAGE_PATHS = [/^\/groups\/$/, /^\/groups\/[^/]+\/$/, /^\/operations\/[^/]+\/seizures\/new\/$/];

self.addEventListener("install", (event) => {
  // One missing asset must not keep the worker from installing.
  event.waitUntil(
    caches
      .open(STATIC_CACHE)
      .then((cache) => Promise.allSettled(ASSETS.map((url) => cache.add(url))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== STATIC_CACHE && !key.startsWith(PAGES_PREFIX)).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

function sameOrigin(url) {
  return url.origin === self.location.origin;
}

function isPage(url) {
  return sameOrigin(url) && PAGE_PATHS.some((pattern) => pattern.test(url.pathname));
}

function isAsset(url) {
  return sameOrigin(url) && (url.pathname.startsWith("/static/") || url.pathname === "/manifest.webmanifest");
}

function pageKey(url) {
  const key = new URL(url);
  key.search = "";
  key.hash = "";
  return key.href;
}

function userOf(html) {
  const match = html.match(/<body\b[^>]*\sdata-user="([^"]*)"/);
  return match ? match[1].replace(/&amp;/g, "&").replace(/&quot;/g, '"').replace(/&#x27;|&#39;/g, "'").replace(/&lt;/g, "<").replace(/&gt;/g, ">") : "";
}

function assetsOf(html, base) {
  const urls = [];
  const pattern = /<(?:script|link)\b[^>]*\s(?:src|href)="([^"]+)"/g;
  let match;
  while ((match = pattern.exec(html))) {
    const url = new URL(match[1].replace(/&amp;/g, "&"), base);
    if (isAsset(url)) urls.push(url.href);
  }
  return urls;
}

async function keepAssets(urls) {
  const cache = await caches.open(STATIC_CACHE);
  await Promise.allSettled(urls.map(async (url) => (await cache.match(url)) || cache.add(url)));
}

// Stores a page under the user it was rendered for, and nothing for anybody else:
// another user's copies go as soon as a page of this one is kept.
async function keepPage(url, response, expectedUser) {
  if (!response.ok || response.redirected || !(response.headers.get("Content-Type") || "").startsWith("text/html")) return false;
  const html = await response.text();
  const user = userOf(html);
  if (!user || (expectedUser && user !== expectedUser)) return false;
  const name = PAGES_PREFIX + encodeURIComponent(user);
  const names = await caches.keys();
  await Promise.all(names.filter((other) => other.startsWith(PAGES_PREFIX) && other !== name).map((other) => caches.delete(other)));
  const cache = await caches.open(name);
  await cache.put(pageKey(url), new Response(html, { status: response.status, statusText: response.statusText, headers: response.headers }));
  await keepAssets(assetsOf(html, url));
  return true;
}

async function cachedPage(url) {
  const names = (await caches.keys()).filter((name) => name.startsWith(PAGES_PREFIX));
  for (const name of names) {
    // The page varies on the language and the session: match on the address alone.
    const hit = await (await caches.open(name)).match(pageKey(url), { ignoreVary: true });
    if (hit) return hit;
  }
  return undefined;
}

function slowNetwork(cached) {
  return new Promise((resolve) => setTimeout(() => cached.then((hit) => hit && resolve(hit)), SLOW_NETWORK_MS));
}

async function pageFromNetworkFirst(event) {
  const url = event.request.url;
  const cached = cachedPage(url);
  const network = fetch(event.request).then((response) => {
    event.waitUntil(keepPage(url, response.clone()).catch(() => false));
    return response;
  });
  try {
    return await Promise.race([network, slowNetwork(cached)]);
  } catch (error) {
    return (await cached) || Response.error();
  }
}

async function assetFromNetworkFirst(request) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const copy = response.clone();
      caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy));
    }
    return response;
  } catch (error) {
    return (await caches.match(request, { ignoreVary: true, cacheName: STATIC_CACHE })) || Response.error();
  }
}

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  const url = new URL(event.request.url);
  if (isPage(url)) event.respondWith(pageFromNetworkFirst(event));
  else if (isAsset(url)) event.respondWith(assetFromNetworkFirst(event.request));
});

// A page asks for itself and its siblings in the group to be kept: its first load came
// before this worker controlled it, and an officer may go offline right after it.
function keepAll(user, urls) {
  return Promise.allSettled(
    urls.map(async (address) => {
      const url = new URL(address, self.location.origin);
      if (isAsset(url)) return keepAssets([url.href]);
      if (!isPage(url)) return true;
      const cache = await caches.open(PAGES_PREFIX + encodeURIComponent(user));
      if (await cache.match(pageKey(url.href), { ignoreVary: true })) return true;
      const response = await fetch(new Request(url.href, { credentials: "same-origin", headers: { Accept: "text/html" } }));
      if (!(await keepPage(url.href, response, user))) throw new Error(`not kept: ${url.pathname}`);
      return true;
    }),
  );
}

// The answer says whether the page and what it loads are kept; its siblings are kept
// as well as they can be (an observer has no seizure form).
self.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "keep" || !event.data.user) return;
  const reply = (kept) => event.ports[0] && event.ports[0].postMessage({ kept });
  const { user, urls = [], siblings = [] } = event.data;
  event.waitUntil(
    Promise.all([keepAll(user, urls), keepAll(user, siblings)]).then(
      ([own]) => reply(own.every((result) => result.status === "fulfilled")),
      () => reply(false),
    ),
  );
});

/* ---- Web Push ------------------------------------------------------------------ */
// A push says only which group has something new and how many of each kind (never a
// message or a name: groups/notifications.py); the title and line come worded by the
// server in the member's language. The tag is the group's, as for the notifications
// the open page shows (static/js/notifications.js): one replaces the other.
self.addEventListener("push", (event) => {
  let payload = {};
  try {
    payload = event.data ? event.data.json() : {};
  } catch (error) {
    payload = {};
  }
  const group = typeof payload.group === "string" ? payload.group : "";
  const url = typeof payload.url === "string" && payload.url.startsWith("/") ? payload.url : "/groups/";
  event.waitUntil(
    self.registration.showNotification(payload.title || "CENcomm", {
      body: payload.body || "",
      tag: group ? `cencomm:${group}` : "cencomm",
      renotify: true,
      icon: "/static/img/icon-192.png",
      data: { url },
    }),
  );
});

// Opens the group's page: the tab that shows it if there is one, else a new one.
self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const target = new URL((event.notification.data && event.notification.data.url) || "/groups/", self.location.origin);
  if (!sameOrigin(target)) return;
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((client) => new URL(client.url).pathname === target.pathname);
      if (open) return open.focus();
      return self.clients.openWindow(target.href);
    }),
  );
});
