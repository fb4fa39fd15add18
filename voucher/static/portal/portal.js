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
