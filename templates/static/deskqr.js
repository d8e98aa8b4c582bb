// The operator's desk: reading an approval QR code with the desk's camera
// (templates/pages/desk_qr_scan.html). On the officer's press the camera
// opens (getUserMedia); its frames are read by the browser's
// BarcodeDetector where it reads QR codes, else by jsQR (static/vendor,
// loaded before this file). The first approval token read (it starts
// "DA1.") fills the form's field and sends the form; the camera stops.
// Without a camera the button stays hidden and the officer types the code.
(function () {
  "use strict";
  var box = document.getElementById("scanner");
  var start = document.getElementById("scan_start");
  var video = document.getElementById("scan_video");
  var status = document.getElementById("scan_status");
  var form = document.getElementById("approve_form");
  var field = document.getElementById("token");
  if (!box || !start || !video || !status || !form || !field) {
    return;
  }
  var say = function (key) { status.textContent = box.getAttribute("data-" + key) || ""; };
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    say("no-camera");
    return;
  }
  start.hidden = false;

  var stream = null;
  var done = false;
  var detector = null;
  var canvas = document.createElement("canvas");
  var context = canvas.getContext("2d", { willReadFrequently: true });

  // detectorReady resolves to a BarcodeDetector that reads QR codes, or
  // null (none, or one that does not: Chromium on Linux has none).
  function detectorReady() {
    if (!("BarcodeDetector" in window) || !window.BarcodeDetector.getSupportedFormats) {
      return Promise.resolve(null);
    }
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }).catch(function () { return null; });
  }

  function stop() {
    if (stream) {
      stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
    }
    video.hidden = true;
  }

  // found takes a text read from a frame: an approval token is sent.
  function found(text) {
    if (done || !text) {
      return;
    }
    if (text.indexOf("DA1.") !== 0) {
      say("foreign");
      return;
    }
    done = true;
    stop();
    field.value = text;
    say("found");
    if (form.requestSubmit) {
      form.requestSubmit();
    } else {
      form.submit();
    }
  }

  // readFrame reads the current frame with jsQR.
  function readFrame() {
    var w = video.videoWidth, h = video.videoHeight;
    if (!w || !h || typeof window.jsQR !== "function") {
      return null;
    }
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    context.drawImage(video, 0, 0, w, h);
    var code = window.jsQR(context.getImageData(0, 0, w, h).data, w, h, { inversionAttempts: "dontInvert" });
    return code ? code.data : null;
  }

  function tick() {
    if (done || !stream) {
      return;
    }
    var next = function () { setTimeout(tick, 150); };
    if (detector) {
      detector.detect(video).then(function (codes) {
        if (codes.length) {
          found(codes[0].rawValue);
        }
        next();
      }).catch(function () {
        detector = null; // read with jsQR from now on
        next();
      });
      return;
    }
    found(readFrame());
    next();
  }

  start.addEventListener("click", function () {
    start.disabled = true;
    detectorReady().then(function (d) {
      detector = d;
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      say("looking");
      return video.play();
    }).then(function () {
      tick();
    }).catch(function () {
      stop();
      start.disabled = false;
      say("denied");
    });
  });
})();
