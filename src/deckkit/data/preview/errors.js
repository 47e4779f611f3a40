/* deckkit preview: collect script errors and media that failed to load into #dk-errors, so that a
   broken page shows it (and a headless browser's DOM dump reports it). */
(function () {
  "use strict";
  var errors = [];
  function show() {
    var out = document.getElementById("dk-errors");
    if (!out) return;
    out.textContent = errors.join("\n");
    out.setAttribute("data-count", String(errors.length));
    out.hidden = errors.length === 0;
  }
  function report(message) {
    errors.push(message);
    show();
  }
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && target.nodeType === 1) {
      var why = target.error ? " (media error " + target.error.code + ": " + target.error.message + ")" : "";
      report("failed to load " + (target.currentSrc || target.src || target.href || target.tagName) + why);
    } else {
      report("error: " + event.message + " (" + event.filename + ":" + event.lineno + ")");
    }
  }, true);
  // What the page's Content-Security-Policy refused to load (a deck's remote image in its CSS).
  document.addEventListener("securitypolicyviolation", function (event) {
    report("not loaded (the preview fetches nothing from the network): " +
      (event.blockedURI || event.effectiveDirective));
  });
  window.addEventListener("unhandledrejection", function (event) {
    report("unhandled rejection: " + event.reason);
  });
  var consoleError = console.error;
  console.error = function () {
    report("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
  document.addEventListener("DOMContentLoaded", show);
})();
