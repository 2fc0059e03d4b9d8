// Familiar: the validation page's charts (ECharts), drawn from the JSON the page embeds in
// <script type="application/json" id="validation-data">, and redrawn after every htmx swap
// (the page polls while it trains). Names are drawn on the canvas (never markup); tooltips
// escape every text.
(function () {
  "use strict";

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function chart(id) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return null;
    var old = window.echarts.getInstanceByDom(el);
    if (old) old.dispose();
    return window.echarts.init(el, null, { renderer: "canvas" });
  }

  function lines(runs, key) {
    return runs.filter(function (r) { return r[key].length; }).map(function (r) {
      var line = { name: r.name, type: "line", showSymbol: key !== "loss", data: r[key] };
      if (r.color) line.itemStyle = line.lineStyle = { color: r.color };  // the scan page's
      return line;
    });
  }

  function lineChart(id, title, series, yName, percent) {
    var c = chart(id);
    if (!c) return;
    if (!series.length) { c.dispose(); document.getElementById(id).style.height = "0"; return; }
    c.setOption({
      animation: false,
      title: { text: title, textStyle: { fontSize: 13 } },
      tooltip: { trigger: "axis", formatter: function (items) {
        return items.map(function (i) {
          var v = i.value[1];
          return esc(i.seriesName) + ": " + (percent ? (100 * v).toFixed(1) + "%" : v.toFixed(4));
        }).join("<br>") + "<br>step " + esc(items[0].value[0]);
      } },
      legend: { top: 22, type: "scroll" },
      grid: { top: 60, left: 60, right: 20, bottom: 40 },
      xAxis: { type: "value", name: "step", nameLocation: "middle", nameGap: 25 },
      yAxis: { type: "value", name: yName, scale: true },
      series: series,
    });
  }

  function scatter(data) {
    var c = chart("chart-scatter");
    if (!c) return;
    var metrics = Object.keys(data.scatter || {});
    if (!metrics.length) { c.dispose(); return; }
    var labels = data.scatter_labels || {}, lower = data.scatter_lower || {};
    function label(m) { return labels[m] || m.toUpperCase(); }
    function direction(m) { return lower[m] === false ? " (higher = more familiar)" : " (lower = more familiar)"; }
    var grids = metrics.map(function (m, i) {
      var w = 100 / metrics.length;
      return { left: (i * w + 5) + "%", width: (w - 8) + "%", top: 40, bottom: 40 };
    });
    c.setOption({
      animation: false,
      title: metrics.map(function (m, i) {
        return { text: "accuracy vs " + label(m), left: (i * 100 / metrics.length + 5) + "%", textStyle: { fontSize: 13 } };
      }),
      tooltip: { formatter: function (p) {
        return esc(p.value[2]) + "<br>" + esc(p.seriesName) + " " + p.value[0].toFixed(3) + " · accuracy " + (100 * p.value[1]).toFixed(1) + "%";
      } },
      grid: grids,
      xAxis: metrics.map(function (m, i) { return { gridIndex: i, type: "value", scale: true, boundaryGap: ["8%", "40%"], name: label(m) + direction(m), nameLocation: "middle", nameGap: 25 }; }),
      yAxis: metrics.map(function (m, i) { return { gridIndex: i, type: "value", scale: true, boundaryGap: ["10%", "10%"], axisLabel: { formatter: function (v) { return (100 * v).toFixed(0) + "%"; } } }; }),
      series: metrics.map(function (m, i) {
        return { name: label(m), type: "scatter", xAxisIndex: i, yAxisIndex: i, symbolSize: 11,
          data: data.scatter[m].map(function (p) {
            var c = (data.colors || {})[p[0]];
            return c ? { value: [p[1], p[2], p[0]], itemStyle: { color: c } } : [p[1], p[2], p[0]];
          }),
          label: { show: true, position: "right", formatter: function (p) { return p.value[2]; } },
          labelLayout: { hideOverlap: true } };
      }),
    });
  }

  function draw() {
    var script = document.getElementById("validation-data");
    if (!script) return;
    var data = JSON.parse(script.textContent);
    if (!data) return;
    lineChart("chart-loss", "Training loss per step", lines(data.runs, "loss"), "loss", false);
    var val = lines(data.runs, "val_accuracy");
    lineChart("chart-val", "Validation accuracy per checkpoint", val, "accuracy", true);
    scatter(data);
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSwap", draw);
})();
