/* Renders every chart container ([data-chart] names the <script type="application/json">
   holding its Vega-Lite spec) as SVG, and marks each one data-rendered="true" or "error". */
(function () {
  "use strict";
  var containers = document.querySelectorAll("[data-chart]");
  var pending = containers.length;
  function done() {
    pending -= 1;
    if (pending <= 0) { document.body.setAttribute("data-charts-done", "true"); }
  }
  if (!pending) { document.body.setAttribute("data-charts-done", "true"); return; }
  if (typeof window.vegaEmbed !== "function") {
    window.dnmwatchNote("chart library missing: vegaEmbed is not defined");
    document.body.setAttribute("data-charts-done", "true");
    return;
  }
  Array.prototype.forEach.call(containers, function (el) {
    var spec;
    try {
      spec = JSON.parse(document.getElementById(el.getAttribute("data-chart")).textContent);
    } catch (err) {
      el.setAttribute("data-rendered", "error");
      window.dnmwatchNote(err);
      done();
      return;
    }
    window.vegaEmbed(el, spec, { actions: false, renderer: "svg", mode: "vega-lite" })
      .then(function () { el.setAttribute("data-rendered", "true"); })
      .catch(function (err) { el.setAttribute("data-rendered", "error"); window.dnmwatchNote(err); })
      .then(done);
  });
}());
