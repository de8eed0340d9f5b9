// The portal as an app, on the page side (the worker is /sw.js):
// registers the service worker; keeps the home page's balance for offline
// use and fills the offline page from it; forgets it at logout; offers to
// install the app once; turns push notifications on from the profile.
// A static file: the Content-Security-Policy allows no inline script.
(function () {
  "use strict";
  var DATA = "kabinet-data", SNAPSHOT = "/snapshot.json", INSTALL = "kabinet.install";
  var storage = "caches" in window;

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
  }

  // forget deletes what the last subscriber left on this device.
  function forget() {
    return storage ? caches.delete(DATA).catch(function () {}) : Promise.resolve();
  }

  // The home page's summary, as it was seen and when.
  function keepSnapshot() {
    var el = document.getElementById("app-snapshot");
    if (!el || !storage) return;
    var s;
    try { s = JSON.parse(el.textContent); } catch (e) { return; }
    s.lang = document.documentElement.lang;
    var body = JSON.stringify(s);
    caches.open(DATA).then(function (c) {
      return c.put(SNAPSHOT, new Response(body, { headers: { "Content-Type": "application/json" } }));
    }).catch(function () {});
  }

  // when writes the snapshot's time as the portal writes times: 14:05
  // today, 14.03.2026 14:05 another day, in the provider's zone.
  function when(at, zone) {
    var d = new Date(at);
    function f(o, t) {
      try { return new Intl.DateTimeFormat("ru-RU", Object.assign({ timeZone: zone }, o)).format(t); }
      catch (e) { return new Intl.DateTimeFormat("ru-RU", o).format(t); }
    }
    var day = { day: "2-digit", month: "2-digit", year: "numeric" };
    var time = f({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" }, d);
    return f(day, d) === f(day, new Date()) ? time : f(day, d) + " " + time;
  }

  function offlinePage() {
    var box = document.getElementById("offline-snapshot");
    if (!box || !storage) return;
    caches.match(SNAPSHOT, { cacheName: DATA }).then(function (r) { return r ? r.json() : null; }).then(function (s) {
      if (!s) return;
      box.querySelectorAll("[data-field]").forEach(function (el) {
        var k = el.getAttribute("data-field");
        el.textContent = k === "stamp" ? box.getAttribute("data-stamp").replace("{time}", when(s.at, s.zone)) : (s[k] || "");
      });
      box.hidden = false;
      var empty = document.getElementById("offline-empty");
      if (empty) empty.hidden = true;
    }).catch(function () {});
  }

  // The install offer: on the home page, once the browser says the app can
  // be installed, on the second visit or after something went well (a
  // success message); shown once, never again after a choice.
  function installOffer() {
    var box = document.getElementById("install");
    if (!box) return;
    var st = {};
    try { st = JSON.parse(localStorage.getItem(INSTALL) || "{}"); } catch (e) { st = {}; }
    function save() { try { localStorage.setItem(INSTALL, JSON.stringify(st)); } catch (e) { /* private mode */ } }
    st.visits = (st.visits || 0) + 1;
    save();
    window.addEventListener("appinstalled", function () { box.hidden = true; st.done = "installed"; save(); });
    if (st.done) return;
    window.addEventListener("beforeinstallprompt", function (e) {
      e.preventDefault();
      if (st.done || !(st.visits >= 2 || document.querySelector(".notice.ok"))) return;
      st.done = "offered";
      save();
      box.hidden = false;
      box.querySelector("[data-install]").addEventListener("click", function () {
        box.hidden = true;
        e.prompt();
        e.userChoice.then(function (c) { st.done = c.outcome; save(); });
      });
      box.querySelector("[data-install-later]").addEventListener("click", function () {
        box.hidden = true;
        st.done = "dismissed";
        save();
      });
    });
  }

  function key(b64) {
    var s = atob(b64.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((b64.length + 3) % 4));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }

  // Notifications in the profile: permission is asked for only on the
  // button's click; the subscription goes to the server, which lists it
  // with the subscriber's other devices.
  function pushSettings() {
    var box = document.getElementById("push");
    if (!box) return;
    var say = function (id) {
      box.querySelectorAll("[data-push-msg]").forEach(function (el) { el.hidden = el.getAttribute("data-push-msg") !== id; });
    };
    if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window) || !window.isSecureContext) {
      say("unsupported");
      return;
    }
    var btn = box.querySelector("[data-push-enable]");
    btn.hidden = false;
    if (Notification.permission === "denied") say("denied");
    navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
      if (!sub) return;
      box.querySelectorAll("[data-endpoint]").forEach(function (el) {
        if (el.getAttribute("data-endpoint") === sub.endpoint) el.querySelector("[data-this-device]").hidden = false;
      });
    }).catch(function () {});
    btn.addEventListener("click", function () {
      btn.disabled = true;
      Notification.requestPermission().then(function (perm) {
        if (perm !== "granted") { say("denied"); return null; }
        return navigator.serviceWorker.ready.then(function (reg) {
          return reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key(box.getAttribute("data-key")) });
        }).then(function (sub) {
          var j = sub.toJSON();
          var form = new URLSearchParams({ endpoint: j.endpoint, p256dh: j.keys.p256dh, auth: j.keys.auth, csrf: box.getAttribute("data-csrf") });
          return fetch("/profile/push", { method: "POST", body: form, credentials: "same-origin" });
        }).then(function (r) {
          if (r.ok) location.assign("/profile");
          else say("failed");
        });
      }).catch(function () { say("failed"); }).then(function () { btn.disabled = false; });
    });
    // Removing this device's subscription stops it here too.
    document.addEventListener("submit", function (e) {
      var f = e.target, ep = f.getAttribute && f.getAttribute("data-endpoint-form");
      if (!ep) return;
      navigator.serviceWorker.ready.then(function (reg) { return reg.pushManager.getSubscription(); }).then(function (sub) {
        if (sub && sub.endpoint === ep) sub.unsubscribe();
      }).catch(function () {});
    });
  }

  function start() {
    keepSnapshot();
    // The login page means nobody is logged in here: nothing of the last
    // subscriber stays (a session that expired left no logout behind).
    if (document.querySelector("form[action='/login']")) forget();
    document.addEventListener("submit", function (e) {
      var f = e.target;
      if (!(f instanceof HTMLFormElement) || f.getAttribute("action") !== "/logout" || f.getAttribute("data-forgotten")) return;
      e.preventDefault();
      forget().then(function () { f.setAttribute("data-forgotten", "1"); f.submit(); });
    });
    offlinePage();
    installOffer();
    pushSettings();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
