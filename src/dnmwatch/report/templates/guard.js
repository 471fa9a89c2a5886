/* Runs first: records every script error, rejected promise and CSP violation on the page
   (body[data-js-errors] and #js-errors), so a headless browser test can read them. */
(function () {
  "use strict";
  var errors = [];
  function note(message) {
    errors.push(String(message));
    var apply = function () {
      document.body.setAttribute("data-js-errors", String(errors.length));
      var box = document.getElementById("js-errors");
      if (box) { box.textContent = errors.join("\n"); }
    };
    if (document.body) { apply(); } else { document.addEventListener("DOMContentLoaded", apply); }
  }
  window.dnmwatchNote = note;
  window.addEventListener("error", function (event) { note(event.message || "error"); });
  window.addEventListener("unhandledrejection", function (event) { note(event.reason); });
  document.addEventListener("securitypolicyviolation", function (event) {
    note("blocked by the page's security policy: " + event.violatedDirective + " " +
         event.blockedURI);
  });
}());
