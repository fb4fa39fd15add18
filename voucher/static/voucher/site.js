/* Behaviour of the staff pages, kept out of the HTML (Content-Security-Policy: no inline script).
   <select data-autosubmit>: choosing an option submits its form. */
(function () {
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      target.form.submit();
    }
  });
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
