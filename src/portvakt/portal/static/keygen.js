// Makes an RSA key pair in this browser with WebCrypto (RSASSA-PKCS1-v1_5, SHA-256).
// The private key is offered for download (PKCS#8 PEM and JWK) and never leaves the browser:
// only the public JWK, with kid = its RFC 7638 thumbprint, is put into the form and posted, and only once the
// person has ticked that they kept the private key (else a ValidationMessage and an ErrorSummary, by keycheck.js).
(function () {
  "use strict";

  var form = document.getElementById("keygen");
  if (!form) {
    return;
  }
  var status = document.getElementById("keygen-status");
  var button = document.getElementById("generate");
  var downloads = document.getElementById("downloads");
  var urls = [];
  form.hidden = false;

  if (!(window.crypto && window.crypto.subtle && window.isSecureContext)) {
    status.textContent = form.dataset.unsupported;
    button.disabled = true;
    return;
  }

  function base64url(bytes) {
    var text = "";
    var view = new Uint8Array(bytes);
    for (var i = 0; i < view.length; i++) {
      text += String.fromCharCode(view[i]);
    }
    return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function pem(der, label) {
    var body = btoa(String.fromCharCode.apply(null, new Uint8Array(der)));
    var lines = body.match(/.{1,64}/g).join("\n");
    return "-----BEGIN " + label + "-----\n" + lines + "\n-----END " + label + "-----\n";
  }

  // RFC 7638 §3.2: the required members of an RSA key, in lexicographic order, without whitespace.
  async function thumbprint(jwk) {
    var canonical = '{"e":"' + jwk.e + '","kty":"RSA","n":"' + jwk.n + '"}';
    var digest = await window.crypto.subtle.digest("SHA-256", new TextEncoder().encode(canonical));
    return base64url(digest);
  }

  function offer(link, text, type, name) {
    var url = URL.createObjectURL(new Blob([text], { type: type }));
    urls.push(url);
    link.href = url;
    link.download = name;
  }

  async function generate() {
    var bits = parseInt(document.getElementById("bits").value, 10) === 3072 ? 3072 : 2048;
    var pair = await window.crypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true, ["sign", "verify"]);
    var pkcs8 = await window.crypto.subtle.exportKey("pkcs8", pair.privateKey);
    var priv = await window.crypto.subtle.exportKey("jwk", pair.privateKey);
    var pub = await window.crypto.subtle.exportKey("jwk", pair.publicKey);
    var kid = await thumbprint(pub);
    var stem = "portvakt-" + kid.slice(0, 12).replace(/[^A-Za-z0-9_-]/g, "");
    var privateJwk = { kty: "RSA", n: priv.n, e: priv.e, d: priv.d, p: priv.p, q: priv.q, dp: priv.dp,
                       dq: priv.dq, qi: priv.qi, kid: kid, alg: "RS256", use: "sig" };
    urls.forEach(URL.revokeObjectURL);
    urls = [];
    offer(document.getElementById("download-pem"), pem(pkcs8, "PRIVATE KEY"), "application/x-pem-file",
          stem + "-private.pem");
    offer(document.getElementById("download-jwk"), JSON.stringify(privateJwk, null, 2) + "\n", "application/json",
          stem + "-private.jwk.json");
    document.getElementById("public_jwk").value =
      JSON.stringify({ kty: "RSA", n: pub.n, e: pub.e, kid: kid, alg: "RS256", use: "sig" });
    document.getElementById("kid").value = kid;
    return kid;
  }

  // The form's errors as the server shows them (keycheck.js); the browser's own bubbles are off (novalidate).
  var errors = window.portvaktFormErrors;
  var saved = document.getElementById("saved");

  form.addEventListener("submit", function (event) {
    if (!saved.checked) {
      event.preventDefault();
      if (errors) {
        errors.show(form, saved, form.dataset.savedRequired, saved.nextElementSibling);
      }
    }
  });

  saved.addEventListener("change", function () {
    if (saved.checked && errors) {
      errors.clear(form, saved);
    }
  });

  button.addEventListener("click", function () {
    button.disabled = true;
    status.textContent = form.dataset.working;
    if (errors) {
      errors.clear(form, button);
    }
    generate().then(function (kid) {
      status.textContent = form.dataset.ready.replace("{kid}", kid);
      downloads.hidden = false;
      document.getElementById("download-pem").focus();
    }).catch(function () {
      status.textContent = form.dataset.failed;
    }).finally(function () {
      button.disabled = false;
    });
  });
})();
