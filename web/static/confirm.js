// Asks before a destructive form is sent. A form with data-confirm opens the
// page's #confirm-dialog with its question; only the dialog's confirm button
// sends the form. A static script, because the Content-Security-Policy
// (script-src 'self') blocks inline onsubmit handlers: the back office's
// confirm() in one deleted news at once.
(function () {
  "use strict";
  var pending = null;
  document.addEventListener("submit", function (e) {
    var f = e.target;
    if (!(f instanceof HTMLFormElement) || !f.hasAttribute("data-confirm")) return;
    if (f.dataset.confirmed === "1") {
      delete f.dataset.confirmed;
      return;
    }
    var d = document.getElementById("confirm-dialog");
    e.preventDefault();
    if (!d || typeof d.showModal !== "function") {
      if (window.confirm(f.dataset.confirm)) { f.dataset.confirmed = "1"; f.requestSubmit(e.submitter || null); }
      return;
    }
    pending = { form: f, submitter: e.submitter || null };
    d.querySelector("[data-confirm-text]").textContent = f.dataset.confirm;
    d.returnValue = "";
    d.showModal();
  }, true);
  document.addEventListener("DOMContentLoaded", function () {
    var d = document.getElementById("confirm-dialog");
    if (!d) return;
    d.addEventListener("close", function () {
      var p = pending;
      pending = null;
      if (p && d.returnValue === "ok") {
        p.form.dataset.confirmed = "1";
        p.form.requestSubmit(p.submitter);
      }
    });
  });
})();
