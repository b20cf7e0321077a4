// The feedback form: show, as the giver types, which axis has nothing yet. One axis is
// allowed; the hint only makes the gap visible.
(function () {
  "use strict";
  var form = document.querySelector("form[data-growth-form]");
  if (!form) return;
  function update() {
    form.querySelectorAll("fieldset[data-axis]").forEach(function (fs) {
      var filled = Array.prototype.some.call(fs.querySelectorAll("textarea"), function (t) {
        return t.value.trim() !== "";
      });
      var hint = fs.querySelector("[data-gap-for]");
      if (hint) hint.hidden = filled;
    });
  }
  form.addEventListener("input", update);
  update();
})();
