// The adjudication page from the keyboard: number keys pick a final answer for the
// first conflict on the page, Enter decides it (the form posts, with its CSRF token, and
// the page comes back with the next conflict first). Clicking an answer decides at once.
(function () {
  "use strict";
  var list = document.getElementById("conflicts");
  if (!list) return;

  function current() { return list.querySelector('[data-testid="decide-form"]'); }
  function choices(form) { return form.querySelectorAll("button[name=answer]"); }
  function typing(node) {
    return node && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName));
  }

  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    var form = current();
    if (!form) return;
    if (/^[1-9]$/.test(ev.key)) {
      var target = choices(form)[Number(ev.key) - 1];
      if (!target) return;
      ev.preventDefault();
      choices(form).forEach(function (b) {
        b.setAttribute("aria-pressed", b === target ? "true" : "false");  // review.css fills it
      });
      target.focus();
      return;
    }
    if (ev.key === "Enter") {
      var picked = form.querySelector('button[name=answer][aria-pressed="true"]');
      if (!picked) return;  // Enter on a focused button clicks it: the browser's own way
      ev.preventDefault();
      form.requestSubmit(picked);
    }
  });
})();
