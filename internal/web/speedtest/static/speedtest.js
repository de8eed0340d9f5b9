// Kabinet speed test: the same requests as LibreSpeed's speedtest_worker.js
// (garbage, empty, getIP, telemetry), so the backend stays compatible with
// LibreSpeed's own client. No dependencies, no CDN.
"use strict";

(function () {
  var T = {
    ru: {start: "Начать", running: "Идёт измерение…", ping: "Пинг", jitter: "Джиттер", dl: "Загрузка", ul: "Отдача",
      ms: "мс", mbps: "Мбит/с", of: "из", ip: "Ваш адрес", limited: "Скорость ограничена за долг: пополните баланс — ограничение снимется сразу.",
      good: "Скорость соответствует тарифу.", slow: "Скорость ниже тарифной. Подключите компьютер кабелем, закройте загрузки и проверьте ещё раз; если не поможет — напишите в поддержку.",
      saved: "Результат сохранён", done: "Готово", fail: "Ошибка измерения"},
    en: {start: "Start", running: "Measuring…", ping: "Ping", jitter: "Jitter", dl: "Download", ul: "Upload",
      ms: "ms", mbps: "Mbit/s", of: "of", ip: "Your address", limited: "The speed is limited for debt: top up the balance and the limit is lifted at once.",
      good: "The speed is what the tariff promises.", slow: "The speed is below the tariff. Connect the computer by cable, pause downloads and test again; if that does not help, write to support.",
      saved: "Result saved", done: "Done", fail: "Measurement failed"}
  };

  // num writes a number as the page's language does: "94,3" in Russian,
  // "94.3" in English, at most one decimal.
  function num(lang, v) {
    return new Intl.NumberFormat(lang === "en" ? "en-US" : "ru-RU", {maximumFractionDigits: 1}).format(v);
  }

  function params() {
    var q = new URLSearchParams(location.search);
    var base = document.body.getAttribute("data-base") || "/speedtest/";
    return {
      base: base,
      // Seconds per phase and parallel streams, as LibreSpeed's defaults
      // (time_dl_max, time_ul_max, xhr_dlMultistream).
      dlTime: +(q.get("time") || 10), ulTime: +(q.get("time") || 10),
      streams: +(q.get("streams") || 3), pings: +(q.get("pings") || 10),
      grace: +(q.get("grace") || 1.5), auto: q.get("auto") === "1"
    };
  }

  function rnd() { return Math.random(); }

  // getIP: the address and, for a subscriber, the line's speed.
  async function getIP(p) {
    var r = await fetch(p.base + "backend/getIP?isp=true&distance=km&r=" + rnd(), {cache: "no-store", credentials: "same-origin"});
    return r.json();
  }

  // Ping: sequential GETs of empty; ping is the minimum, jitter the mean
  // difference between consecutive pings (LibreSpeed's definition).
  async function ping(p) {
    var res = [];
    for (var i = 0; i < p.pings; i++) {
      var t0 = performance.now();
      var r = await fetch(p.base + "backend/empty?r=" + rnd(), {cache: "no-store", credentials: "same-origin"});
      await r.arrayBuffer();
      res.push(performance.now() - t0);
    }
    res.shift(); // the first one pays for the connection
    var min = Math.min.apply(null, res), j = 0;
    for (var k = 1; k < res.length; k++) j += Math.abs(res[k] - res[k - 1]);
    return {ping: min, jitter: res.length > 1 ? j / (res.length - 1) : 0};
  }

  // Download: parallel streams of garbage for dlTime seconds; the first
  // grace seconds (TCP slow start) are not counted.
  async function download(p, progress) {
    var total = 0, start = performance.now(), counted = 0, graceDone = false, t0 = start;
    var ctl = new AbortController();
    var stop = false;
    async function stream(delay) {
      await new Promise(function (ok) { setTimeout(ok, delay); });
      while (!stop) {
        try {
          var r = await fetch(p.base + "backend/garbage?r=" + rnd() + "&ckSize=100", {cache: "no-store", signal: ctl.signal, credentials: "same-origin"});
          var rd = r.body.getReader();
          for (;;) {
            var c = await rd.read();
            if (c.done) break;
            total += c.value.length;
          }
        } catch (e) { if (!stop) throw e; }
      }
    }
    var streams = [];
    for (var i = 0; i < p.streams; i++) streams.push(stream(i * 300));
    await new Promise(function (ok) {
      var iv = setInterval(function () {
        var now = performance.now();
        if (!graceDone && now - start > p.grace * 1000) { graceDone = true; total = 0; t0 = now; }
        if (graceDone) { counted = total * 8 / ((now - t0) / 1000) / 1e6; progress(counted); }
        if (now - start > (p.dlTime + p.grace) * 1000) { clearInterval(iv); ok(); }
      }, 200);
    });
    stop = true; ctl.abort();
    await Promise.allSettled(streams);
    return counted;
  }

  // Upload: parallel XHR POSTs of a 20 MiB blob to empty; XHR because fetch
  // has no upload progress.
  async function upload(p, progress) {
    var chunk = new Uint8Array(1 << 20);
    crypto.getRandomValues(chunk.subarray(0, 65536));
    for (var o = 65536; o < chunk.length; o += 65536) chunk.set(chunk.subarray(0, 65536), o);
    var parts = []; for (var i = 0; i < 20; i++) parts.push(chunk);
    var blob = new Blob(parts);
    var total = 0, start = performance.now(), t0 = start, graceDone = false, counted = 0, stop = false, xhrs = [];
    function stream() {
      if (stop) return;
      var x = new XMLHttpRequest(), last = 0;
      xhrs.push(x);
      x.upload.onprogress = function (e) { total += e.loaded - last; last = e.loaded; };
      x.onload = function () { total += blob.size - last; stream(); };
      x.onerror = function () { if (!stop) setTimeout(stream, 100); };
      x.open("POST", p.base + "backend/empty?r=" + rnd(), true);
      x.setRequestHeader("Content-Type", "application/octet-stream");
      x.send(blob);
    }
    for (var s = 0; s < p.streams; s++) setTimeout(stream, s * 300);
    await new Promise(function (ok) {
      var iv = setInterval(function () {
        var now = performance.now();
        if (!graceDone && now - start > p.grace * 1000) { graceDone = true; total = 0; t0 = now; }
        if (graceDone) { counted = total * 8 / ((now - t0) / 1000) / 1e6; progress(counted); }
        if (now - start > (p.ulTime + p.grace) * 1000) { clearInterval(iv); ok(); }
      }, 200);
    });
    stop = true;
    xhrs.forEach(function (x) { try { x.abort(); } catch (e) {} });
    return counted;
  }

  async function telemetry(p, r, ip) {
    var f = new FormData();
    f.append("ispinfo", JSON.stringify(ip || {}));
    f.append("dl", r.dl.toFixed(2)); f.append("ul", r.ul.toFixed(2));
    f.append("ping", r.ping.toFixed(2)); f.append("jitter", r.jitter.toFixed(2));
    f.append("log", ""); f.append("extra", "kabinet");
    var resp = await fetch(p.base + "results/telemetry", {method: "POST", body: new URLSearchParams(f), credentials: "same-origin"});
    var text = await resp.text();
    return resp.ok && /^id /.test(text) ? text.slice(3) : "";
  }

  // history reloads the page's list of earlier tests, so the result just
  // saved is in it at once (the portal page; the stand-alone one has none).
  async function history() {
    var block = document.getElementById("st-history-block");
    if (!block) return;
    var r = await fetch(location.pathname, {cache: "no-store", credentials: "same-origin"});
    if (!r.ok) return;
    var doc = new DOMParser().parseFromString(await r.text(), "text/html");
    var fresh = doc.getElementById("st-history-block");
    if (fresh) block.innerHTML = fresh.innerHTML;
  }

  async function run() {
    var p = params(), lang = (document.documentElement.lang || "ru").slice(0, 2), t = T[lang] || T.ru;
    var $ = function (id) { return document.getElementById(id); };
    var set = function (id, v) { var e = $(id); if (e) e.textContent = v; };
    var mbps = function (v) { return num(lang, v) + " " + t.mbps; };
    // "94,3 Мбит/с из 100": the measured speed against the line's.
    var against = function (v, kbps) {
      if (!(kbps > 0)) return mbps(v);
      return lang === "en" ? num(lang, v) + " " + t.of + " " + mbps(kbps / 1000) : mbps(v) + " " + t.of + " " + num(lang, kbps / 1000);
    };
    $("st-start").disabled = true;
    set("st-status", t.running);
    set("st-verdict", "");
    document.body.setAttribute("data-state", "running");
    try {
      var ip = await getIP(p), line = ip.line || {};
      if ($("st-ip")) set("st-ip", t.ip + ": " + String(ip.processedString || "").split(" - ")[0]);
      var pj = await ping(p);
      set("st-ping", num(lang, pj.ping) + " " + t.ms); set("st-jitter", num(lang, pj.jitter) + " " + t.ms);
      var dl = await download(p, function (v) { set("st-dl", mbps(v)); });
      set("st-dl", against(dl, line.down_kbps));
      var ul = await upload(p, function (v) { set("st-ul", mbps(v)); });
      set("st-ul", against(ul, line.up_kbps));
      var res = {dl: dl, ul: ul, ping: pj.ping, jitter: pj.jitter};
      if (line.down_kbps > 0) {
        set("st-verdict", line.limited ? t.limited : (dl * 1000 >= line.down_kbps * 0.8 ? t.good : t.slow));
        document.body.setAttribute("data-verdict", line.limited ? "limited" : (dl * 1000 >= line.down_kbps * 0.8 ? "good" : "slow"));
      }
      var id = await telemetry(p, res, ip);
      if (id) { try { await history(); } catch (e) { /* the result is saved; the list updates on the next visit */ } }
      set("st-status", id ? t.saved + "." : t.done);
      document.body.setAttribute("data-result-id", id);
      document.body.setAttribute("data-state", "done");
    } catch (e) {
      set("st-status", t.fail + ": " + e);
      document.body.setAttribute("data-state", "failed");
    }
    $("st-start").disabled = false;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var lang = (document.documentElement.lang || "ru").slice(0, 2), t = T[lang] || T.ru;
    document.querySelectorAll("[data-t]").forEach(function (e) { e.textContent = t[e.getAttribute("data-t")] || e.textContent; });
    document.getElementById("st-start").addEventListener("click", run);
    if (params().auto) run();
  });
})();
