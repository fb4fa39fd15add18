/* Character counts under the report sections; htmx re-runs it after each swap. */
(function () {
  function count(root) {
    (root || document).querySelectorAll("textarea.counted").forEach(function (area) {
      var out = document.querySelector('.counter[data-for="' + area.id + '"] .count');
      if (!out) return;
      var update = function () { out.textContent = Array.from(area.value.replace(/\s/g, "")).length; };
      area.addEventListener("input", update);
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { count(document); });
  document.addEventListener("htmx:afterSettle", function (e) { count(e.target); });
})();

/* A table wider than the screen scrolls sideways in its .table-scroll box; a keyboard reaches
   it too (WCAG 2.1.1): the box takes the focus when, and only when, it scrolls. */
(function () {
  function focusable(root) {
    (root.querySelectorAll ? root : document).querySelectorAll(".table-scroll").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
      } else if (!box.hasAttribute("data-keep-tabindex")) {
        box.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { focusable(document); });
  window.addEventListener("resize", function () { focusable(document); });
  document.addEventListener("htmx:afterSettle", function (e) { focusable(e.target); });
})();
