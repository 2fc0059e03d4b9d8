// Familiar: small progressive enhancements. Pages work without it; htmx does the rest.
(function () {
  "use strict";

  function renderMath(root) {
    if (!window.renderMathInElement) return;
    root.querySelectorAll(".math").forEach(function (el) {
      window.renderMathInElement(el, {
        delimiters: [
          { left: "$$", right: "$$", display: true },
          { left: "\\[", right: "\\]", display: true },
          { left: "\\(", right: "\\)", display: false },
        ],
        throwOnError: false,
      });
    });
  }

  function showChosen(input, target) {
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    target.textContent = names.length ? names.join(", ") : "";
  }

  // Upload with a real progress bar (XMLHttpRequest reports upload progress; fetch does not).
  function setupUpload(form) {
    var input = form.querySelector("input[type=file]");
    var zone = form.querySelector(".dropzone");
    var list = form.querySelector(".dz-files");
    var bar = document.getElementById("upload-progress");
    var status = document.getElementById("upload-status");
    var result = document.getElementById("upload-result");
    input.addEventListener("change", function () { showChosen(input, list); });
    ["dragenter", "dragover"].forEach(function (ev) {
      zone.addEventListener(ev, function (e) { e.preventDefault(); zone.classList.add("drag"); });
    });
    ["dragleave", "drop"].forEach(function (ev) {
      zone.addEventListener(ev, function () { zone.classList.remove("drag"); });
    });
    zone.addEventListener("drop", function (e) {
      e.preventDefault();
      input.files = e.dataTransfer.files;
      showChosen(input, list);
    });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      if (!input.files.length) { status.textContent = "Choose at least one file."; return; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("HX-Request", "true");
      xhr.setRequestHeader("X-CSRF-Token", window.familiarCsrf ? window.familiarCsrf() : "");
      bar.hidden = false; bar.value = 0; status.textContent = "Uploading…";
      xhr.upload.onprogress = function (ev) {
        if (ev.lengthComputable) bar.value = Math.round((100 * ev.loaded) / ev.total);
      };
      xhr.upload.onload = function () { status.textContent = "Checking and storing…"; };
      xhr.onload = function () {
        bar.hidden = true;
        status.textContent = xhr.status < 300 ? "Done." : "Not stored.";
        result.innerHTML = xhr.responseText;
        if (window.htmx) window.htmx.process(result);
        if (xhr.status < 300) {
          form.reset(); list.textContent = "";
          document.body.dispatchEvent(new Event("refresh-strategies"));
        }
      };
      xhr.onerror = function () { bar.hidden = true; status.textContent = "Upload failed: network error."; };
      xhr.send(new FormData(form));
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    renderMath(document.body);
    var form = document.getElementById("upload-form");
    if (form) setupUpload(form);
  });
  document.addEventListener("htmx:afterSwap", function (e) { renderMath(e.target); });
  // Inline handlers are not allowed by the Content-Security-Policy: these replace them.
  document.addEventListener("htmx:afterRequest", function (e) {
    var form = e.target;
    if (e.detail.successful && form.matches && form.matches("form[data-reset-on-success]")) form.reset();
  });
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
    }
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.matches && e.target.matches("[data-select-on-focus]")) e.target.select();
  });
})();
