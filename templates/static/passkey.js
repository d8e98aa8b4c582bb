// Passkey forms. Served as {base}/static/passkey.js; no inline script, no
// framework.
//
// A <form data-passkey="create"> (enrol a passkey) or
// <form data-passkey="get"> (use one) carries the whole options object the
// server made, {"publicKey": {…}} with base64url binaries, in its
// data-options attribute, and a hidden <input name="credential">. When its
// [data-passkey-start] button is clicked, or the form is submitted while the
// credential is still empty, the script calls navigator.credentials.create
// or .get with the options parsed by
// PublicKeyCredential.parseCreationOptionsFromJSON or
// parseRequestOptionsFromJSON, writes JSON.stringify(credential.toJSON())
// into the hidden input and submits the form. When WebAuthn is not there,
// or the person cancels, the text of the form's data-passkey-error
// attribute goes into its role="alert" element and nothing is submitted.
(function () {
  "use strict";

  var PKC = window.PublicKeyCredential;

  function supported() {
    return typeof PKC === "function" && !!navigator.credentials &&
      typeof navigator.credentials.create === "function" && typeof navigator.credentials.get === "function";
  }

  // base64url ⇄ ArrayBuffer, for browsers without the JSON helpers.
  function fromB64(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }

  function toB64(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      var out = { type: d.type, id: fromB64(d.id) };
      if (d.transports) { out.transports = d.transports; }
      return out;
    });
  }

  function parseOptions(kind, o) {
    if (kind === "create") {
      if (typeof PKC.parseCreationOptionsFromJSON === "function") { return PKC.parseCreationOptionsFromJSON(o); }
      var c = Object.assign({}, o);
      c.challenge = fromB64(o.challenge);
      c.user = Object.assign({}, o.user, { id: fromB64(o.user.id) });
      c.excludeCredentials = descriptors(o.excludeCredentials);
      return c;
    }
    if (typeof PKC.parseRequestOptionsFromJSON === "function") { return PKC.parseRequestOptionsFromJSON(o); }
    var g = Object.assign({}, o);
    g.challenge = fromB64(o.challenge);
    g.allowCredentials = descriptors(o.allowCredentials);
    return g;
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") { return cred.toJSON(); }
    var r = cred.response, resp = { clientDataJSON: toB64(r.clientDataJSON) };
    if (r.attestationObject) {
      resp.attestationObject = toB64(r.attestationObject);
      if (r.getTransports) { resp.transports = r.getTransports(); }
      if (r.getAuthenticatorData) { resp.authenticatorData = toB64(r.getAuthenticatorData()); }
      if (r.getPublicKey && r.getPublicKey()) { resp.publicKey = toB64(r.getPublicKey()); }
      if (r.getPublicKeyAlgorithm) { resp.publicKeyAlgorithm = r.getPublicKeyAlgorithm(); }
    } else {
      resp.authenticatorData = toB64(r.authenticatorData);
      resp.signature = toB64(r.signature);
      if (r.userHandle) { resp.userHandle = toB64(r.userHandle); }
    }
    return {
      id: cred.id, rawId: toB64(cred.rawId), type: cred.type, response: resp,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }

  function alertOf(form) {
    var el = form.querySelector('[role="alert"]');
    if (!el) {
      el = document.createElement("p");
      el.setAttribute("role", "alert");
      form.insertBefore(el, form.firstChild);
    }
    return el;
  }

  function fail(form) {
    alertOf(form).textContent = form.getAttribute("data-passkey-error") || "";
  }

  function send(form, submitter) {
    if (typeof form.requestSubmit === "function") {
      if (submitter && submitter.type === "submit" && submitter.form === form) {
        form.requestSubmit(submitter);
      } else {
        form.requestSubmit();
      }
    } else {
      form.submit();
    }
  }

  function start(form, submitter) {
    var kind = form.getAttribute("data-passkey");
    var input = form.querySelector('input[name="credential"]');
    if (form.dataset.passkeyBusy === "1") { return; }
    if (!supported() || !input) { fail(form); return; }
    var options;
    try {
      options = { publicKey: parseOptions(kind, JSON.parse(form.getAttribute("data-options")).publicKey) };
    } catch (e) {
      fail(form);
      return;
    }
    form.dataset.passkeyBusy = "1";
    alertOf(form).textContent = "";
    var call = kind === "create" ? navigator.credentials.create(options) : navigator.credentials.get(options);
    call.then(function (cred) {
      if (!cred) { throw new Error("no credential"); }
      input.value = JSON.stringify(credentialJSON(cred));
      delete form.dataset.passkeyBusy;
      send(form, submitter);
    }).catch(function () {
      // Cancelled, timed out, refused by the device, or not possible here.
      delete form.dataset.passkeyBusy;
      input.value = "";
      fail(form);
    });
  }

  function wire(form) {
    var kind = form.getAttribute("data-passkey");
    if (kind !== "create" && kind !== "get") { return; }
    var input = form.querySelector('input[name="credential"]');
    form.querySelectorAll("[data-passkey-start]").forEach(function (button) {
      button.addEventListener("click", function (event) {
        event.preventDefault();
        start(form, button);
      });
    });
    form.addEventListener("submit", function (event) {
      if (input && input.value) { return; } // the credential is there: let it go
      event.preventDefault();
      start(form, event.submitter);
    });
  }

  function init() {
    document.querySelectorAll("form[data-passkey]").forEach(wire);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
