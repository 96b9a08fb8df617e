// Moves keyboard focus to a form's error summary when a page shows one (WCAG 3.3.1).
(function () {
  "use strict";
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }
})();
