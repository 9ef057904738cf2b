// Draws the page's time series (embedded as JSON, never fetched) with uPlot.
(function () {
  var el = document.getElementById("series");
  var box = document.getElementById("chart");
  if (!el || !box || !window.uPlot) return;
  var s = JSON.parse(el.textContent);
  var xs = s.points.map(function (p) { return Date.parse(p.start) / 1000; });
  var col = function (k) { return s.points.map(function (p) { return p[k]; }); };
  var opts = {
    width: box.clientWidth || 600, height: 240,
    series: [{}, { label: "Visitors", stroke: "#2454d6", width: 2 }, { label: "Page views", stroke: "#8a94a6" }, { label: "Conversions", stroke: "#137a3a" }],
    axes: [{}, {}],
  };
  var plot = new uPlot(opts, [xs, col("visitors"), col("pageviews"), col("conversions")], box);
  window.addEventListener("resize", function () { plot.setSize({ width: box.clientWidth, height: 240 }); });
})();
