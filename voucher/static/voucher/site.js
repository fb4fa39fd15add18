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
