// Familiar: the study page's charts, drawn with ECharts from the JSON the page embeds in
// <script type="application/json" id="study-data">. Project names come from users: they are
// escaped before they reach a tooltip's HTML (axis labels and legends are canvas text).
(function () {
  "use strict";

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(v, digits) {
    return v === null || v === undefined || !isFinite(v) ? "–" : Number(v).toFixed(digits);
  }

  function picks(data) {
    var names = data.metrics.map(function (m) { return data.labels[m]; });
    function series(name, values, color) {
      return { name: name, type: "bar", data: values, itemStyle: { color: color } };
    }
    return {
      animation: false,
      legend: { top: 0 },
      grid: { left: 50, right: 10, top: 30, bottom: 30, containLabel: true },
      tooltip: {
        trigger: "axis",
        formatter: function (items) {
          return '<div class="tip"><strong>' + esc(items[0].axisValue) + "</strong>" +
            items.map(function (it) {
              return "<div>" + esc(it.seriesName) + ": " + fmt(it.value, 2) + "</div>";
            }).join("") + "</div>";
        },
      },
      // every metric's name shown (ECharts drops crowded labels unless told not to); the
      // axis starts at 0 so a pick at 31 points never looks like nothing
      xAxis: { type: "category", data: names,
               axisLabel: { interval: 0, rotate: names.length > 4 ? 30 : 0 } },
      yAxis: { type: "value", min: 0, name: "accuracy (points)" },
      series: [
        series("pick", data.pick, "#4363d8"),
        series("oracle", data.oracle, "#3cb44b"),
        series("random", data.random, "#a9a9a9"),
      ],
    };
  }

  var COLORS = ["#4363d8", "#e6194b", "#3cb44b", "#f58231", "#911eb4", "#42d4f4", "#f032e6"];
  // metrics that agree put their points on the same spot: hollow marks of different shapes
  // and sizes keep every one of them visible
  var SYMBOLS = ["circle", "rect", "triangle", "diamond", "roundRect", "pin", "arrow"];

  function spread(data) {
    return {
      animation: false,
      legend: { top: 0 },
      grid: { left: 50, right: 10, top: 30, bottom: 40 },
      tooltip: {
        trigger: "item",
        formatter: function (it) {
          return '<div class="tip"><strong>' + esc(it.value[2]) + "</strong><div>" +
            esc(it.seriesName) + ": spread " + fmt(it.value[0], 2) + ", ρ " +
            fmt(it.value[1], 3) + "</div></div>";
        },
      },
      xAxis: { type: "value", name: "spread (points)", nameLocation: "middle", nameGap: 25 },
      yAxis: { type: "value", min: -1, max: 1, name: "Spearman ρ" },
      series: data.metrics.map(function (m, i) {
        var color = COLORS[i % COLORS.length];
        return {
          name: data.labels[m], type: "scatter", symbol: SYMBOLS[i % SYMBOLS.length],
          symbolSize: Math.max(16 - 3 * i, 7),
          itemStyle: { color: "rgba(255,255,255,0)", borderColor: color, borderWidth: 2 },
          data: data.points[m] || [],
        };
      }),
    };
  }

  var BUILDERS = { picks: picks, spread: spread };
  window.familiarStudyCharts = BUILDERS;  // for tests

  function draw() {
    var node = document.getElementById("study-data");
    if (!node || !window.echarts) return;
    var data = JSON.parse(node.textContent);
    if (!data) return;
    document.querySelectorAll("[data-study-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-study-chart");
      if (!BUILDERS[kind]) return;
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(BUILDERS[kind](data));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
