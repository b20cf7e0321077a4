// The review screen: takes items and gives verdicts through the REST API, from the
// keyboard. Number keys pick labels (or A / tie / B), Enter submits, S skips, U undoes.
// After the last item it goes to the queue's "done" page.
// When every label is itself one digit ("0".."9", ratings "1".."5"), the key is the label:
// pressing 7 picks "7", not the seventh button.
// Item text is only ever written with textContent, so nothing in it becomes markup.
(function () {
  "use strict";
  var root = document.getElementById("review-screen");
  if (!root) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var task = root.dataset.task;
  var multi = root.dataset.multi === "true";
  var direct = root.dataset.directKeys === "true";
  var query = "?project=" + encodeURIComponent(root.dataset.project);
  var queuePath = "/api/v1/review/queues/" + encodeURIComponent(root.dataset.queue);
  var donePath = "/review/" + encodeURIComponent(root.dataset.project) + "/" +
    encodeURIComponent(root.dataset.queue) + "/done";
  var form = document.getElementById("verdict");
  var status = root.querySelector('[data-testid="review-status"]');
  var current = null;
  var startedAt = 0;
  var busy = false;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (cls) node.className = cls;
    return node;
  }
  function show(selector, text) {
    var node = root.querySelector(selector);
    if (node) node.textContent = text;
  }
  function say(text) { status.textContent = text || ""; }

  function api(method, path, body) {
    var options = {
      method: method,
      credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "Accept": "application/json" }
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.detail || ("HTTP " + response.status));
        return data;
      });
    });
  }

  function renderValue(value) {
    if (value === null || value === undefined) return "–";
    if (Array.isArray(value)) return value.join(", ");
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function renderInput(input, itemId) {
    var box = root.querySelector('[data-testid="item-input"]');
    box.replaceChildren();
    if (input.prompt !== undefined) box.appendChild(el("p", input.prompt, "grove-muted"));
    if (input.text !== undefined) box.appendChild(el("p", input.text, "grove-review-text"));
    if (input.a !== undefined) {
      var grid = el("div", null, "grid");
      [["A", input.a], ["B", input.b]].forEach(function (side) {
        var col = el("article");
        col.appendChild(el("h3", side[0]));
        col.appendChild(el("p", renderValue(side[1]), "grove-review-text"));
        grid.appendChild(col);
      });
      box.appendChild(grid);
    }
    if (input.file !== undefined) {
      var img = document.createElement("img");
      img.src = "/review/items/" + encodeURIComponent(itemId) + "/file";
      img.alt = String(input.file.path || "the item's file");
      img.className = "grove-review-image";
      box.appendChild(img);
    }
    if (input.row !== undefined && input.row !== null) {
      var table = el("table", null, "striped");
      var body = document.createElement("tbody");
      Object.keys(input.row).forEach(function (key) {
        var tr = document.createElement("tr");
        tr.appendChild(el("th", key));
        tr.appendChild(el("td", renderValue(input.row[key])));
        body.appendChild(tr);
      });
      table.appendChild(body);
      box.appendChild(table);
    }
  }

  function mark(button, on) {
    button.setAttribute("aria-pressed", on ? "true" : "false");  // review.css fills it
  }
  function pressed(selector, on) {
    form.querySelectorAll(selector).forEach(function (b) { mark(b, on(b)); });
  }
  function clearChoices() {
    pressed("[aria-pressed]", function () { return false; });
    form.reset();
  }

  function render(assignment) {
    clearChoices();
    if (!assignment) {
      // Nothing more for this person: the "queue done" page says what they did and
      // what is left, with the ways on.
      current = null;
      show('[data-testid="item-id"]', "–");
      var box = root.querySelector('[data-testid="item-input"]');
      box.replaceChildren(el("p", "Nothing left for you in this queue. Thank you!", "grove-empty"));
      window.location.assign(donePath);
      return;
    }
    current = assignment.item;
    startedAt = Date.now();
    show('[data-testid="item-id"]', current.external_id || current.id);
    show('[data-testid="item-meta"]', current.source + (current.verdicts ? " · " + current.verdicts + " verdict(s) so far" : ""));
    renderInput(current.input || {}, current.id);
    show('[data-testid="prediction"]', renderValue(current.prediction));
    show('[data-testid="confidence"]', current.confidence === null || current.confidence === undefined
      ? "" : "confidence " + Math.round(current.confidence * 100) + "%");
    show('[data-testid="progress"]', assignment.done + " of " + assignment.total + " done");
  }

  function load(promise) {
    busy = true;
    return promise.then(function (assignment) { render(assignment); })
      .catch(function (err) { say(err.message); })
      .then(function () { busy = false; });
  }
  function next() { return load(api("POST", queuePath + "/next" + query)); }

  function answer() {
    var chosen = [];
    form.querySelectorAll('[data-label][aria-pressed="true"]').forEach(function (b) { chosen.push(b.dataset.label); });
    if (task === "label") return chosen.length ? { labels: chosen } : null;
    if (task === "pairwise") {
      var c = form.querySelector('[data-choice][aria-pressed="true"]');
      return c ? { choice: c.dataset.choice } : null;
    }
    if (task === "correct") {
      if (form.querySelector('[data-accept][aria-pressed="true"]')) return { accept: true };
      if (chosen.length) return { correction: chosen[0] };
      var text = form.elements.correction ? form.elements.correction.value.trim() : "";
      return text ? { correction: text } : null;
    }
    var ratings = {};
    form.querySelectorAll("[data-criterion]").forEach(function (r) { ratings[r.dataset.criterion] = Number(r.value); });
    return { ratings: ratings };
  }

  function submit() {
    if (busy || !current) return;
    var a = answer();
    if (!a) { say("pick an answer first (number keys)"); return; }
    var tags = (form.elements.tags.value || "").split(",").map(function (t) { return t.trim(); }).filter(Boolean);
    var body = {
      answer: a,
      improve: form.elements.improve.value,
      tags: tags,
      seconds: (Date.now() - startedAt) / 1000,
      submit_key: "screen-" + current.id + "-" + startedAt
    };
    say("");
    busy = true;
    api("POST", "/api/v1/review/items/" + current.id + "/verdict", body)
      .then(function () { say("saved"); return next(); })
      .catch(function (err) { say(err.message); busy = false; });
  }
  function skip() {
    if (busy || !current) return;
    busy = true;
    api("POST", "/api/v1/review/items/" + current.id + "/skip")
      .then(function () { say("skipped"); return next(); })
      .catch(function (err) { say(err.message); busy = false; });
  }
  function undo() {
    if (busy) return;
    load(api("POST", queuePath + "/undo" + query).then(function (a) { say("your last verdict was taken back"); return a; }));
  }

  function pick(index) {
    var buttons;
    if (task === "pairwise") buttons = form.querySelectorAll("[data-choice]");
    else if (task === "correct") buttons = form.querySelectorAll("[data-accept], [data-label]");
    else buttons = form.querySelectorAll("[data-label]");
    var target = buttons[index];
    if (!target) return;
    toggle(target);
  }
  function toggle(button) {
    var on = button.getAttribute("aria-pressed") !== "true";
    if (!multi || task !== "label") pressed("[aria-pressed]", function () { return false; });
    mark(button, on);
  }

  form.addEventListener("click", function (ev) {
    var button = ev.target.closest("button");
    if (!button) return;
    if (button.dataset.action === "skip") { ev.preventDefault(); skip(); return; }
    if (button.dataset.action === "undo") { ev.preventDefault(); undo(); return; }
    if (button.hasAttribute("aria-pressed")) { ev.preventDefault(); toggle(button); }
  });
  form.addEventListener("submit", function (ev) { ev.preventDefault(); submit(); });

  function typing(node) {
    return node && (node.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(node.tagName));
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey) {
      if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); submit(); }
      return;
    }
    if (typing(ev.target)) return;
    if (direct && /^[0-9]$/.test(ev.key)) {
      var named = form.querySelector('[data-label="' + ev.key + '"]');
      if (named) { ev.preventDefault(); toggle(named); }
      return;
    }
    if (/^[1-9]$/.test(ev.key)) { ev.preventDefault(); pick(Number(ev.key) - 1); return; }
    if (ev.key === "Enter") { ev.preventDefault(); submit(); return; }
    if (ev.key === "s" || ev.key === "S") { ev.preventDefault(); skip(); return; }
    if (ev.key === "u" || ev.key === "U") { ev.preventDefault(); undo(); }
  });

  next();
})();
