// Keyboard shortcuts ("g" then a letter to navigate, "?" for help), CSRF and error
// messages for htmx.
(function () {
  "use strict";
  var routes = { h: "/" };
  document.querySelectorAll(".grove-nav a").forEach(function (a) {
    var m = /g then (\w)\)/.exec(a.getAttribute("title") || "");
    if (m) routes[m[1]] = a.getAttribute("href");
  });
  var pendingG = false;
  var timer = null;
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
    var dialog = document.getElementById("shortcuts");
    if (ev.key === "?") { if (dialog && !dialog.open) dialog.showModal(); ev.preventDefault(); return; }
    if (pendingG) {
      pendingG = false;
      clearTimeout(timer);
      if (routes[ev.key]) { window.location.assign(routes[ev.key]); ev.preventDefault(); }
      return;
    }
    if (ev.key === "g") { pendingG = true; timer = setTimeout(function () { pendingG = false; }, 1500); }
  });
  document.addEventListener("click", function (ev) {
    if (ev.target && ev.target.hasAttribute && ev.target.hasAttribute("data-close-dialog")) {
      var d = ev.target.closest("dialog");
      if (d) d.close();
    }
  });
  document.addEventListener("htmx:configRequest", function (ev) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) ev.detail.headers["X-CSRF-Token"] = meta.getAttribute("content");
  });
  // htmx leaves the page as it was when a request fails; say so where the answer would go.
  function failed(ev, text) {
    var target = ev.detail && ev.detail.target;
    if (!target) return;
    var p = document.createElement("p");
    p.className = "grove-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    target.replaceChildren(p);
  }
  document.addEventListener("htmx:responseError", function (ev) {
    var status = ev.detail.xhr ? ev.detail.xhr.status : "?";
    failed(ev, "that did not work (HTTP " + status + "); reload the page and try again");
  });
  document.addEventListener("htmx:sendError", function (ev) {
    failed(ev, "the server could not be reached; check the connection and try again");
  });
})();
