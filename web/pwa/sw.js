// Kabinet's service worker. Small on purpose: it keeps the shell (styles,
// scripts, icons, the offline page) for use without a network, answers a
// portal page it cannot fetch with the offline page, and shows push
// notifications. It never stores a page: personal pages go to the network
// only. The server fills in VERSION (a hash of the shell) and SHELL; a
// deploy that changes the shell changes this file, and the browser
// installs the new worker, which takes over at once and drops the old shell.
"use strict";

const VERSION = "__VERSION__";
const SHELL = ["__SHELL__"];
const CACHE = "kabinet-shell-" + VERSION;
// The home page's last balance, written by app.js; deleted at logout.
const DATA = "kabinet-data";
const SNAPSHOT = "/snapshot.json";
// Areas the worker leaves alone: the back office, the public site, the
// API, payments and the speed test.
const PASS = ["/admin", "/site", "/api/", "/pay/", "/speedtest/"];

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((url) => new Request(url, { cache: "reload" }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("kabinet-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

// offline answers a navigation that failed: the offline page in the
// language of the last snapshot.
async function offline() {
  let lang = "ru";
  try {
    const snap = await caches.match(SNAPSHOT, { cacheName: DATA });
    if (snap) lang = (await snap.json()).lang === "en" ? "en" : "ru";
  } catch (e) { /* no snapshot: Russian */ }
  const page = await caches.match("/offline?lang=" + lang, { cacheName: CACHE });
  return page || Response.error();
}

self.addEventListener("fetch", (event) => {
  const req = event.request;
  if (req.method !== "GET") return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin || PASS.some((p) => url.pathname.startsWith(p))) return;
  if (req.mode === "navigate") {
    event.respondWith(fetch(req).catch(() => offline()));
    return;
  }
  const key = url.pathname + url.search;
  if (SHELL.includes(key)) {
    event.respondWith(caches.match(key, { cacheName: CACHE }).then((hit) => hit || fetch(req)));
  }
  // Anything else goes to the network and is not kept.
});

self.addEventListener("push", (event) => {
  let m = {};
  try { m = event.data ? event.data.json() : {}; } catch (e) { m = { body: event.data ? event.data.text() : "" }; }
  event.waitUntil(self.registration.showNotification(m.title || "", {
    body: m.body || "", tag: m.tag || undefined, icon: "/icons/icon-192.png", data: { url: m.url || "/" },
  }));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  const url = new URL((event.notification.data && event.notification.data.url) || "/", self.location.origin);
  if (url.origin !== self.location.origin) return;
  event.waitUntil(self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((list) => {
    for (const c of list) {
      if ("focus" in c && "navigate" in c) return c.navigate(url.href).then((w) => (w || c).focus());
    }
    return self.clients.openWindow(url.href);
  }));
});
