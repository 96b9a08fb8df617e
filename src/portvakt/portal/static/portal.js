// The portal's own script (CSP script-src 'self': no inline script anywhere).
(function () {
  "use strict";

  // Moves keyboard focus to a form's error summary when a page shows one (WCAG 3.3.1).
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }

  // A command box that scrolls sideways must be reachable by keyboard (WCAG 2.1.1).
  function focusableWhenScrolling() {
    var commands = document.querySelectorAll(".pv-command");
    for (var i = 0; i < commands.length; i++) {
      var box = commands[i];
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
      } else if (box.getAttribute("tabindex") === "0" && !box.hasAttribute("data-focusable")) {
        box.removeAttribute("tabindex");
      }
    }
  }
  focusableWhenScrolling();
  window.addEventListener("resize", focusableWhenScrolling);

  // The command a copy button belongs to: data-copy="<id>", else the nearest .pv-command before or after it,
  // else the first one inside the closest ancestor that holds one.
  function commandFor(button) {
    var id = button.getAttribute("data-copy");
    if (id) {
      var named = document.getElementById(id);
      if (named) {
        return named;
      }
    }
    for (var node = button; node && node !== document.body; node = node.parentElement) {
      if (node.classList && node.classList.contains("pv-command")) {
        return node;
      }
      var sibling = node.previousElementSibling;
      while (sibling) {
        if (sibling.classList.contains("pv-command")) {
          return sibling;
        }
        var inner = sibling.querySelectorAll(".pv-command");
        if (inner.length) {
          return inner[inner.length - 1];
        }
        sibling = sibling.previousElementSibling;
      }
      sibling = node.nextElementSibling;
      while (sibling) {
        if (sibling.classList.contains("pv-command")) {
          return sibling;
        }
        var next = sibling.querySelector(".pv-command");
        if (next) {
          return next;
        }
        sibling = sibling.nextElementSibling;
      }
    }
    return null;
  }

  // The live region next to a button, where "Copied" is announced (WCAG 4.1.3).
  function statusFor(button) {
    var status = button.nextElementSibling;
    if (status && status.classList.contains("pv-copy-status")) {
      return status;
    }
    status = document.createElement("span");
    status.className = "pv-copy-status";
    status.setAttribute("role", "status");
    status.setAttribute("aria-live", "polite");
    button.insertAdjacentElement("afterend", status);
    return status;
  }

  function message(button, ok) {
    var english = (document.documentElement.lang || "nb").slice(0, 2) === "en";
    if (ok) {
      return button.getAttribute("data-copied") || (english ? "Copied" : "Kopiert");
    }
    return button.getAttribute("data-copy-failed") ||
      (english ? "Could not copy; select the text and copy it yourself" : "Kunne ikke kopiere; merk teksten og kopier den selv");
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "pv-sr-only";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try {
      ok = document.execCommand("copy");
    } catch (e) {
      ok = false;
    }
    document.body.removeChild(area);
    return ok;
  }

  function copy(button) {
    var command = commandFor(button);
    var status = statusFor(button);
    if (!command) {
      status.textContent = message(button, false);
      return;
    }
    var text = command.textContent.replace(/\s+$/, "");
    var done = function (ok) {
      status.textContent = "";
      // A fresh text node each time, so that a second click is announced again.
      window.setTimeout(function () { status.textContent = message(button, ok); }, 50);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done(true); },
        function () { done(fallbackCopy(text)); });
    } else {
      done(fallbackCopy(text));
    }
  }

  // Copy buttons may be rendered hidden (they need this script); show them. Clicks are handled on the document,
  // so buttons another script adds later (keygen.js) work too.
  var buttons = document.querySelectorAll("[data-copy][hidden]");
  for (var b = 0; b < buttons.length; b++) {
    buttons[b].hidden = false;
  }
  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-copy]") : null;
    if (button) {
      event.preventDefault();
      copy(button);
    }
  });
})();
