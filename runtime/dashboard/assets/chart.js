// Draws the page's charts (embedded as JSON, never fetched) with uPlot:
// the overview's time series, and every <script class="chart-data">, whose
// JSON is {x: [unix seconds], series: [{label, color, values}]} for the
// element its data-target names.
(function () {
  if (!window.uPlot) return;
  var draw = function (box, xs, series) {
    var opts = {
      width: box.clientWidth || 600, height: 240,
      series: [{}].concat(series.map(function (s) { return { label: s.label, stroke: s.color, width: 2 }; })),
      axes: [{}, {}],
    };
    var plot = new uPlot(opts, [xs].concat(series.map(function (s) { return s.values; })), box);
    window.addEventListener("resize", function () { plot.setSize({ width: box.clientWidth, height: 240 }); });
  };
  var el = document.getElementById("series");
  var box = document.getElementById("chart");
  if (el && box) {
    var s = JSON.parse(el.textContent);
    var col = function (k) { return s.points.map(function (p) { return p[k]; }); };
    draw(box, s.points.map(function (p) { return Date.parse(p.start) / 1000; }), [
      { label: "Visitors", color: "#2454d6", values: col("visitors") },
      { label: "Page views", color: "#8a94a6", values: col("pageviews") },
      { label: "Conversions", color: "#137a3a", values: col("conversions") },
    ]);
  }
  document.querySelectorAll("script.chart-data").forEach(function (data) {
    var target = document.getElementById(data.getAttribute("data-target"));
    if (!target) return;
    var c = JSON.parse(data.textContent);
    draw(target, c.x, c.series);
  });
})();
