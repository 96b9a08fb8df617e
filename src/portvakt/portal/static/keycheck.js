// The key pages' own checks, before anything is sent: a form error is shown as on the server's pages, a
// Designsystemet ValidationMessage under the field and an ErrorSummary above the form, focused (WCAG 3.3.1), with
// "Feil: " before the title. The paste form refuses private key material here, so that it never leaves the browser
// (RFC 7517 §9.2; the server refuses it too). On the PKCS#12 page, the file's one download is started.
(function () {
  "use strict";

  // PEM labels of private keys of any kind (BEGIN PRIVATE KEY, RSA/EC/DSA/OPENSSH PRIVATE KEY, ENCRYPTED PRIVATE
  // KEY), PuTTY key files, and the members only a private or symmetric JWK has (RFC 7518 §6.3.2, §6.4).
  var PRIVATE_TEXT = /PRIVATE\s+KEY|PuTTY-User-Key-File|Private-Lines|"(?:d|p|q|dp|dq|qi|oth|k)"\s*:|"kty"\s*:\s*"oct"/;
  var PRIVATE_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

  function hasPrivateMember(value, depth) {
    if (depth > 32 || value === null || typeof value !== "object") {
      return false;
    }
    if (Array.isArray(value)) {
      return value.some(function (item) { return hasPrivateMember(item, depth + 1); });
    }
    var own = Object.prototype.hasOwnProperty;
    if (value.kty === "oct" || PRIVATE_MEMBERS.some(function (m) { return own.call(value, m); })) {
      return true;
    }
    return Object.keys(value).some(function (k) { return hasPrivateMember(value[k], depth + 1); });
  }

  // True if the text holds private key material: by its text, or (escaped member names) once parsed as JSON.
  function isPrivate(text) {
    if (PRIVATE_TEXT.test(text)) {
      return true;
    }
    try {
      return hasPrivateMember(JSON.parse(text), 0);
    } catch (e) {
      return false;
    }
  }

  function describedBy(field, id, add) {
    var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/).filter(function (x) {
      return x && x !== id;
    });
    if (add) {
      ids.push(id);
    }
    if (ids.length) {
      field.setAttribute("aria-describedby", ids.join(" "));
    } else {
      field.removeAttribute("aria-describedby");
    }
  }

  // Removes the form's error summary and the field's validation message, whether the server or this script made them.
  function clear(form, field) {
    var before = form.previousElementSibling;
    while (before && !before.classList.contains("ds-error-summary") && before.tagName !== "H1") {
      before = before.previousElementSibling;
    }
    if (before && before.classList.contains("ds-error-summary")) {
      before.remove();
    }
    var old = document.getElementById(field.id + "-error");
    if (old) {
      old.remove();
    }
    describedBy(field, field.id + "-error", false);
    field.removeAttribute("aria-invalid");
    var prefix = form.dataset.titlePrefix || "";
    if (prefix && document.title.indexOf(prefix) === 0) {
      document.title = document.title.slice(prefix.length);
    }
  }

  // Shows one error for the field: the message under it (after `after`, by default the field), the summary above
  // the form with a link to the field, the title's prefix; moves focus to the summary.
  function show(form, field, message, after) {
    clear(form, field);
    var note = document.createElement("p");
    note.className = "ds-validation-message";
    note.id = field.id + "-error";
    note.setAttribute("data-color", "danger");
    note.textContent = message;
    (after || field).insertAdjacentElement("afterend", note);
    field.setAttribute("aria-invalid", "true");
    describedBy(field, note.id, true);

    var summary = document.createElement("div");
    summary.className = "ds-error-summary";
    summary.tabIndex = -1;
    var heading = document.createElement("h2");
    heading.className = "ds-heading";
    heading.setAttribute("data-size", "xs");
    heading.textContent = form.dataset.errors || "";
    var list = document.createElement("ul");
    list.className = "ds-list";
    var item = document.createElement("li");
    var link = document.createElement("a");
    link.className = "ds-link";
    link.href = "#" + field.id;
    link.textContent = message;
    item.appendChild(link);
    list.appendChild(item);
    summary.appendChild(heading);
    summary.appendChild(list);
    form.insertAdjacentElement("beforebegin", summary);
    var prefix = form.dataset.titlePrefix || "";
    if (prefix && document.title.indexOf(prefix) !== 0) {
      document.title = prefix + document.title;
    }
    summary.focus();
  }

  window.portvaktFormErrors = { show: show, clear: clear };

  var paste = document.getElementById("paste-form");
  if (paste) {
    var area = document.getElementById("public_key");
    paste.addEventListener("submit", function (event) {
      var text = area.value.trim();
      if (!text) {
        event.preventDefault();
        show(paste, area, paste.dataset.required);
      } else if (isPrivate(text)) {
        event.preventDefault();
        area.value = "";
        show(paste, area, paste.dataset.private);
      }
    });
  }

  var download = document.querySelector("a[data-autostart]");
  if (download) {
    window.location.assign(download.href);
  }
})();
