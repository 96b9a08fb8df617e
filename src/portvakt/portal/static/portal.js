// The portal's own script (CSP script-src 'self': no inline script anywhere).
(function () {
  "use strict";

  // Moves keyboard focus to a form's error summary when a page shows one (WCAG 3.3.1).
  var summary = document.querySelector("[data-autofocus]");
  if (summary) {
    summary.focus();
  }

  // After a system-user request is answered, the vendor's page to go back to (its redirectUrl, checked by the
  // server) is opened at once, replacing this page in the history. A 303 from the form's POST cannot go there: the
  // portal's CSP (form-action 'self') covers the redirects of a form submission. Without this script the link stays.
  var follow = document.querySelector("a[data-follow]");
  if (follow && /^https?:$/.test(follow.protocol)) {
    window.location.replace(follow.href);
  }

  // Every command box is focusable and named, so that a line wider than the box can be scrolled by keyboard
  // (WCAG 2.1.1, axe-core scrollable-region-focusable) and a screen reader says what it is (WCAG 4.1.2): a group
  // named by its data-label, else by the heading just before it, else "Command". Boxes added later (by this
  // script's callers, keygen.js, a test) are marked as they arrive (decision P36).
  function commandLabel(box) {
    var label = box.getAttribute("data-label");
    if (label) {
      return label;
    }
    var before = box.previousElementSibling;
    if (before && /^H[1-6]$/.test(before.tagName) && before.textContent.trim()) {
      return before.textContent.trim();
    }
    return (document.documentElement.lang || "nb").slice(0, 2) === "en" ? "Command" : "Kommando";
  }

  function markCommand(box) {
    if (!box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
    }
    if (!box.hasAttribute("role")) {
      box.setAttribute("role", "group");
    }
    if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
      box.setAttribute("aria-label", commandLabel(box));
    }
  }

  function markCommandsIn(root) {
    if (!(root instanceof Element)) {
      return;
    }
    if (root.classList.contains("pv-command")) {
      markCommand(root);
    }
    var inner = root.querySelectorAll(".pv-command");
    for (var i = 0; i < inner.length; i++) {
      markCommand(inner[i]);
    }
  }

  markCommandsIn(document.body);
  if (window.MutationObserver) {
    new MutationObserver(function (changes) {
      for (var c = 0; c < changes.length; c++) {
        if (changes[c].type === "attributes") {
          markCommandsIn(changes[c].target);
        }
        var added = changes[c].addedNodes;
        for (var n = 0; n < added.length; n++) {
          markCommandsIn(added[n]);
        }
      }
    }).observe(document.body, {childList: true, subtree: true, attributes: true, attributeFilter: ["class"]});
  }

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
