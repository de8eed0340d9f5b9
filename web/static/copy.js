// Copies the text of the element a [data-copy] button names (by id) to the
// clipboard and says so in the button's status element. A static script:
// the Content-Security-Policy (script-src 'self') allows no inline handler.
// Without JavaScript the button stays hidden and the number can be selected.
(function () {
  "use strict";
  function copied(btn, ok) {
    var s = document.getElementById(btn.getAttribute("aria-describedby") || "");
    if (s) s.textContent = ok ? btn.dataset.done : btn.dataset.failed;
  }
  document.addEventListener("click", function (e) {
    var btn = e.target.closest("[data-copy]");
    if (!btn) return;
    var src = document.getElementById(btn.dataset.copy);
    if (!src) return;
    var text = src.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copied(btn, true); }, function () { copied(btn, false); });
      return;
    }
    // Plain HTTP (a demo, a LAN): select the text and use the old command.
    var r = document.createRange();
    r.selectNodeContents(src);
    var sel = window.getSelection();
    sel.removeAllRanges();
    sel.addRange(r);
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
    copied(btn, ok);
  });
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-copy][hidden]").forEach(function (b) { b.hidden = false; });
  });
})();
