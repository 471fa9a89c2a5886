/* The dashboard's only script (served as a file: the CSP allows no inline code).
   1. records script errors and CSP violations on <body data-js-errors> (read by the tests);
   2. renders every [data-chart] container from its JSON spec with Vega-Embed, expressions
      evaluated by the CSP-safe interpreter (no eval);
   3. "HTMX-style" partial updates: a form[data-partial] re-renders its target region from
      the server's HTML for the new filters (fetch + replace), without a full page load. */
(function () {
  "use strict";
  var errors = [];
  function note(message) {
    errors.push(String(message));
    document.body.setAttribute("data-js-errors", String(errors.length));
    var box = document.getElementById("js-errors");
    if (box) { box.textContent = errors.join("\n"); box.hidden = false; }
  }
  window.addEventListener("error", function (e) { note(e.message || "error"); });
  window.addEventListener("unhandledrejection", function (e) { note(e.reason); });
  document.addEventListener("securitypolicyviolation", function (e) {
    note("blocked by the security policy: " + e.violatedDirective + " " + e.blockedURI);
  });

  function renderCharts(root) {
    var boxes = root.querySelectorAll("[data-chart]");
    var pending = boxes.length;
    function done() {
      pending -= 1;
      if (pending <= 0) { document.body.setAttribute("data-charts-done", "true"); }
    }
    document.body.setAttribute("data-charts-done", pending ? "false" : "true");
    if (!pending) { return; }
    if (typeof window.vegaEmbed !== "function") {
      note("chart library missing");
      document.body.setAttribute("data-charts-done", "true");
      return;
    }
    Array.prototype.forEach.call(boxes, function (el) {
      var spec;
      try {
        spec = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
      } catch (err) {
        el.setAttribute("data-rendered", "error");
        note(err);
        done();
        return;
      }
      window.vegaEmbed(el, spec, {
        actions: false, renderer: "svg", mode: "vega-lite", defaultStyle: false,
        tooltip: { disableDefaultStyle: true },
        ast: true, expr: window.vegaExpressionInterpreter
      }).then(function () { el.setAttribute("data-rendered", "true"); })
        .catch(function (err) { el.setAttribute("data-rendered", "error"); note(err); })
        .then(done);
    });
  }

  function partial(form) {
    var target = document.getElementById(form.getAttribute("data-target"));
    var params = new URLSearchParams(new FormData(form));
    var url = form.getAttribute("action") + "?" + params.toString();
    document.body.setAttribute("data-loading", "true");
    fetch(url, { credentials: "same-origin", headers: { "X-Partial": "1" } })
      .then(function (resp) {
        if (!resp.ok) { throw new Error("filter failed: HTTP " + resp.status); }
        return resp.text();
      })
      .then(function (html) {
        target.innerHTML = html;  /* server-rendered, autoescaped HTML of our own origin */
        window.history.replaceState(null, "", url);
        renderCharts(target);
      })
      .catch(function (err) {
        var box = document.getElementById("filter-error");
        if (box) { box.textContent = String(err.message || err); box.hidden = false; }
      })
      .then(function () { document.body.removeAttribute("data-loading"); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-partial]"), function (f) {
      f.addEventListener("submit", function (e) { e.preventDefault(); partial(f); });
      f.addEventListener("change", function () { partial(f); });
    });
    renderCharts(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
}());
