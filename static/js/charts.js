// Familiar: result charts drawn with ECharts from the JSON a page embeds in
// <script type="application/json" id="report-data">. Every text that came from a user
// (strategy names, question texts) is escaped before it reaches a tooltip's HTML; axis
// labels and legends are drawn on the canvas, where text is never markup.
(function () {
  "use strict";

  var GRID_TEXT = "#475467";
  var MAX_OVERLAY = 6; // histogram/ECDF lines shown at first; the legend adds the others

  function esc(value) {
    return String(value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "–";
    var a = Math.abs(v);
    if (a >= 1000) return v.toLocaleString("en", { maximumFractionDigits: 0 });
    if (a >= 100) return v.toFixed(1);
    return v.toFixed(3);
  }

  // Axis ticks: whole numbers as they are, others with three significant digits.
  function tick(v) {
    if (Number.isInteger(v)) return String(v);
    return String(Number(v.toPrecision(3)));
  }

  function snippet(data, key) {
    var text = data.snippets && data.snippets[key];
    if (!text) return "question " + esc(key);
    return esc(text.length > 160 ? text.slice(0, 160) + "…" : text);
  }

  function questionTip(data, strategy, value, key) {
    return '<div class="tip"><strong>' + esc(strategy) + "</strong> · " + esc(data.label) +
      " " + fmt(value) + '<div class="tip-q">' + snippet(data, key) + "</div>" +
      '<div class="tip-hint">click to open the question</div></div>';
  }

  function openQuestion(data, key) {
    if (key) window.location.href = data.urls.question + encodeURIComponent(key);
  }

  function color(data, name) {
    return (data.colors && data.colors[name]) || "#98a2b3";
  }

  // Log axes tick at round values, not at powers of a base (1.5, 2.25, 3.38): the coarsest
  // of "1 per decade", "1-2-5" and "1-2-3-5" that gives at least 4 ticks inside the span;
  // a span too narrow for any (PPL 2.1-4.3) gets evenly spaced round steps (2.5, 3, 3.5, 4).
  var LOG_MANTISSAS = [[1], [1, 2, 5], [1, 2, 3, 5]];
  var MIN_TICKS = 4;

  function round(v) {
    return Number(v.toPrecision(12));
  }

  function decadeTicks(lo, hi, mantissas) {
    var out = [];
    for (var e = Math.floor(Math.log10(lo)) - 1; e <= Math.ceil(Math.log10(hi)); e++) {
      mantissas.forEach(function (m) {
        var v = round(m * Math.pow(10, e));
        if (v >= lo && v <= hi) out.push(v);
      });
    }
    return out;
  }

  // Evenly spaced ticks with a 1-2-5 step, five to seven of them across [lo, hi].
  function linearTicks(lo, hi) {
    var raw = (hi - lo) / 6, mag = Math.pow(10, Math.floor(Math.log10(raw)));
    var step = [1, 2, 2.5, 5, 10].map(function (m) { return m * mag; })
      .filter(function (s) { return s >= raw; })[0];
    var out = [];
    for (var v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(round(v));
    return out;
  }

  function logTicks(lo, hi) {
    if (!(lo > 0) || !(hi > lo)) return [];
    for (var i = 0; i < LOG_MANTISSAS.length; i++) {
      var ticks = decadeTicks(lo, hi, LOG_MANTISSAS[i]);
      if (ticks.length >= MIN_TICKS) return thin(ticks, 10);
    }
    return linearTicks(lo, hi);
  }

  // Every k-th tick so that at most `most` remain (1e-6 to 1e9 would give 16 decades).
  function thin(ticks, most) {
    var k = Math.ceil(ticks.length / most);
    return ticks.filter(function (_, i) { return i % k === 0; });
  }

  function extent(values) {
    var lo = Infinity, hi = -Infinity;
    values.forEach(function (v) {
      if (v !== null && v !== undefined && isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
    });
    return [lo, hi];
  }

  function valueAxis(data, extra, span) {
    var log = data.scale === "log";
    var axis = {
      type: log ? "log" : "value",
      scale: true,
      // a little room around the data (a log axis would otherwise snap to powers of ten)
      min: function (v) { return log ? v.min / 1.06 : v.min - 0.03 * (v.max - v.min); },
      max: function (v) { return log ? v.max * 1.06 : v.max + 0.03 * (v.max - v.min); },
      axisLine: { onZero: false },
      nameLocation: "middle",
      nameGap: 30,
      axisLabel: { color: GRID_TEXT, formatter: tick, hideOverlap: true, showMinLabel: false,
                   showMaxLabel: false },
      splitLine: { lineStyle: { color: "#eef0f3" } },
    };
    if (log && span) {
      // the same padding as min/max below, so the ticks cover the whole drawn axis
      var ticks = logTicks(span[0] / 1.06, span[1] * 1.06);
      axis.axisLabel.customValues = ticks;
      axis.axisLabel.showMinLabel = axis.axisLabel.showMaxLabel = true; // ticks sit inside
      axis.axisTick = { customValues: ticks };
      axis.splitLine.customValues = ticks;
    }
    return Object.assign(axis, extra || {});
  }

  // Deterministic jitter in [-0.28, 0.28] so a reload draws the same picture.
  function jitter(i, j) {
    var x = Math.sin((i + 1) * 12.9898 + (j + 1) * 78.233) * 43758.5453;
    return ((x - Math.floor(x)) - 0.5) * 0.56;
  }

  function boxOption(data) {
    var names = data.order;
    var boxes = [], points = [], outliers = [];
    names.forEach(function (name, i) {
      var b = data.box[name];
      var has = b && b.median !== null;
      boxes.push({
        value: has ? [b.whisker_low, b.q1, b.median, b.q3, b.whisker_high] : ["-", "-", "-", "-", "-"],
        name: name, stats: b,
        itemStyle: { color: "rgba(255,255,255,0)", borderColor: color(data, name), borderWidth: 1.6 },
      });
      var series = data.scatter.series[name] || [];
      series.forEach(function (v, j) {
        if (v !== null) points.push({ value: [v, i + jitter(i, j)], key: data.scatter.keys[j], name: name,
                                      itemStyle: { color: color(data, name) } });
      });
      (b ? b.outliers : []).forEach(function (o) {
        outliers.push({ value: [o.value, i], key: o.key, name: name,
                        itemStyle: { color: color(data, name), borderColor: "#1d2433" } });
      });
    });
    return {
      animation: false,
      grid: { left: 8, right: 24, top: 16, bottom: 44, containLabel: true },
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        var d = p.data;
        if (p.seriesType === "boxplot") {
          var s = d.stats;
          return '<div class="tip"><strong>' + esc(d.name) + "</strong> · n " + s.n +
            "<br>median " + fmt(s.median) + " · quartiles " + fmt(s.q1) + "–" + fmt(s.q3) +
            "<br>whiskers " + fmt(s.whisker_low) + "–" + fmt(s.whisker_high) +
            (s.n_outliers ? "<br>" + s.n_outliers + " outliers" : "") + "</div>";
        }
        return questionTip(data, d.name, d.value[0], d.key);
      } },
      xAxis: valueAxis(data, { name: data.label + (data.scale === "log" ? " (log scale)" : "") },
                       extent(points.concat(outliers).map(function (p) { return p.value[0]; }).concat(
                         boxes.map(function (b) { return b.value[0]; }),
                         boxes.map(function (b) { return b.value[4]; })))),
      yAxis: [
        { type: "category", data: names, inverse: true, axisTick: { show: false },
          // whole names, wrapped (a name is never cut short)
          axisLabel: { color: GRID_TEXT, width: 200, overflow: "breakAll", lineHeight: 14 } },
        { type: "value", min: -0.5, max: names.length - 0.5, inverse: true, show: false },
      ],
      series: [
        { type: "boxplot", name: "spread", layout: "horizontal", data: boxes,
          boxWidth: ["40%", "60%"], z: 3 },
        { type: "scatter", name: "questions", yAxisIndex: 1, data: points, symbolSize: 4,
          itemStyle: { opacity: 0.38 }, emphasis: { scale: 2.2, itemStyle: { opacity: 1 } }, z: 2,
          markLine: data.flag ? flagLine(data.flag) : undefined },
        { type: "scatter", name: "outliers", yAxisIndex: 1, data: outliers, symbolSize: 7,
          itemStyle: { opacity: 0.9, borderWidth: 0.6 }, z: 4 },
      ],
    };
  }

  // A metric's flag threshold (IFD above 1: the question does not help predict the
  // response), flagged on the page too.
  function flagLine(flag) {
    return { silent: true, symbol: "none", data: [{ xAxis: flag.threshold }],
             lineStyle: { color: "#c92a2a", type: "dashed", width: 1 },
             label: { formatter: flag.label + " = " + flag.threshold, color: "#c92a2a", position: "start" } };
  }

  // A plain legend wraps onto as many rows as it needs (no paging), every name whole.
  function legendFor(names) {
    var selected = {};
    names.forEach(function (n, i) { selected[n] = i < MAX_OVERLAY; });
    return { type: "plain", top: 0, left: 8, right: 8, itemGap: 10, itemWidth: 16,
             data: names, selected: selected, textStyle: { color: GRID_TEXT } };
  }

  // Rows the wrapped legend takes in a chart ``width`` pixels wide (7 px per character).
  function legendRows(names, width) {
    var rows = 1, x = 0, room = Math.max(200, (width || 600) - 16);
    names.forEach(function (n) {
      var w = 16 + 5 + 7 * String(n).length + 10;
      if (x + w > room && x > 0) { rows += 1; x = 0; }
      x += w;
    });
    return rows;
  }

  function legendTop(data, width) {
    return 22 * legendRows(data.order, width);
  }

  function lineTip(data, unit) {
    return function (p) {
      return '<div class="tip"><strong>' + esc(p.seriesName) + "</strong><br>" + esc(data.label) +
        " " + fmt(p.value[0]) + " · " + (100 * p.value[1]).toFixed(1) + "% " + unit + "</div>";
    };
  }

  function histogramOption(data, width) {
    var h = data.histogram, edges = h.edges, top = legendTop(data, width);
    var centers = edges.slice(1).map(function (e, k) {
      var lo = edges[k];
      return h.log ? Math.sqrt(lo * e) : (lo + e) / 2;
    });
    var series = data.order.map(function (name) {
      var s = h.series.filter(function (x) { return x.strategy === name; })[0];
      var n = s ? s.n : 0;
      return {
        type: "line", name: name, step: "middle", symbol: "none", color: color(data, name),
        lineStyle: { width: 1.6 }, emphasis: { focus: "series" },
        data: s ? s.counts.map(function (c, k) { return [centers[k], n ? c / n : 0]; }) : [],
      };
    });
    return {
      animation: false, color: data.order.map(function (n) { return color(data, n); }),
      title: { text: "Histogram (share of questions per bin)", left: "center", top: top + 6, textStyle: { fontSize: 13, color: GRID_TEXT } },
      legend: legendFor(data.order),
      grid: { left: 8, right: 20, top: top + 34, bottom: 44, containLabel: true },
      tooltip: { trigger: "item", confine: true, formatter: lineTip(data, "of the questions in this bin") },
      xAxis: valueAxis(data, { name: data.label }, [edges[0], edges[edges.length - 1]]),
      yAxis: { type: "value", axisLabel: { color: GRID_TEXT, formatter: function (v) { return Math.round(100 * v) + "%"; } } },
      series: series,
    };
  }

  function ecdfOption(data, width) {
    var top = legendTop(data, width), xs = [];
    var series = data.order.map(function (name) {
      var e = data.ecdf[name] || { x: [], y: [] };
      return {
        type: "line", name: name, step: "end", symbol: "none", color: color(data, name),
        lineStyle: { width: 1.6 }, emphasis: { focus: "series" },
        data: e.x.map(function (x, k) { xs.push(x); return [x, e.y[k]]; }),
      };
    });
    return {
      animation: false,
      title: { text: "Cumulative share (ECDF)", left: "center", top: top + 6, textStyle: { fontSize: 13, color: GRID_TEXT } },
      legend: legendFor(data.order),
      grid: { left: 8, right: 20, top: top + 34, bottom: 44, containLabel: true },
      tooltip: { trigger: "item", confine: true, formatter: lineTip(data, "of the questions at or below") },
      xAxis: valueAxis(data, { name: data.label }, extent(xs)),
      yAxis: { type: "value", min: 0, max: 1, axisLabel: { color: GRID_TEXT, formatter: function (v) { return Math.round(100 * v) + "%"; } } },
      series: series,
    };
  }

  function winRateOption(data) {
    var wr = data.win_rate, labels = wr.labels, cells = [];
    labels.forEach(function (row, i) {
      labels.forEach(function (col, j) {
        var v = wr.win_rate[i][j];
        if (v !== null) cells.push({ value: [j, i, v], row: row, col: col, n: wr.n_pairs[i][j] });
      });
    });
    var many = labels.length > 16;
    return {
      animation: false,
      grid: { left: 8, right: 16, top: 8, bottom: 64, containLabel: true },
      tooltip: { confine: true, formatter: function (p) {
        var d = p.data;
        return '<div class="tip"><strong>' + esc(d.row) + "</strong> is more familiar than <strong>" +
          esc(d.col) + "</strong> on " + (100 * d.value[2]).toFixed(0) + "% of " + d.n +
          ' shared questions<div class="tip-hint">click for the paired view</div></div>';
      } },
      // whole names: the column labels stand at 60 degrees, the row labels wrap
      xAxis: { type: "category", data: labels, position: "top", axisTick: { show: false },
               axisLabel: { color: GRID_TEXT, rotate: 60, interval: 0 } },
      yAxis: { type: "category", data: labels, inverse: true, axisTick: { show: false },
               axisLabel: { color: GRID_TEXT, width: 200, overflow: "breakAll", interval: 0,
                            lineHeight: 14 } },
      visualMap: { min: 0, max: 1, orient: "horizontal", left: "center", bottom: 4, itemHeight: 160,
                   text: ["row wins", "column wins"], calculable: false,
                   inRange: { color: ["#c92a2a", "#f8f9fa", "#3b5bdb"] }, formatter: function (v) { return Math.round(100 * v) + "%"; } },
      series: [{ type: "heatmap", data: cells, label: { show: !many, fontSize: 10,
        formatter: function (p) { return Math.round(100 * p.value[2]); } },
        emphasis: { itemStyle: { borderColor: "#1d2433", borderWidth: 1 } } }],
    };
  }

  function pairedOption(data) {
    var pts = data.points, better = data.lower_is_better ? -1 : 1, lo = Infinity, hi = -Infinity;
    var colA = "#3b5bdb", colB = "#e8590c";
    var items = pts.keys.map(function (key, k) {
      var a = pts.a[k], b = pts.b[k], d = (a - b) * better;
      lo = Math.min(lo, a, b); hi = Math.max(hi, a, b);
      return { value: [a, b], key: key, itemStyle: { color: d > 0 ? colA : d < 0 ? colB : "#98a2b3" } };
    });
    var log = data.scale === "log";
    var pad = log ? 1.06 : 0.03 * (hi - lo);
    var axisExtra = { min: log ? lo / pad : lo - pad, max: log ? hi * pad : hi + pad };
    return {
      animation: false,
      grid: { left: 40, right: 24, top: 24, bottom: 44, containLabel: true },
      tooltip: { trigger: "item", confine: true, formatter: function (p) {
        if (p.seriesName === "diagonal") return "A = B";
        var d = p.data;
        return '<div class="tip"><strong>' + esc(data.a) + "</strong> " + fmt(d.value[0]) +
          " · <strong>" + esc(data.b) + "</strong> " + fmt(d.value[1]) +
          '<div class="tip-q">' + snippet(data, d.key) + '</div><div class="tip-hint">click to open the question</div></div>';
      } },
      xAxis: valueAxis(data, Object.assign({ name: data.label + " of " + data.a }, axisExtra),
                       [lo, hi]),
      yAxis: valueAxis(data, Object.assign({ name: data.label + " of " + data.b, nameRotate: 90,
                                            nameGap: 48 }, axisExtra), [lo, hi]),
      series: [
        { type: "line", name: "diagonal", data: [[lo, lo], [hi, hi]], symbol: "none", silent: true,
          lineStyle: { color: "#667085", type: "dashed", width: 1 } },
        { type: "scatter", name: "questions", data: items, symbolSize: 6, itemStyle: { opacity: 0.7 } },
      ],
    };
  }

  var BUILDERS = { box: boxOption, histogram: histogramOption, ecdf: ecdfOption,
                   winrate: winRateOption, paired: pairedOption };

  function onClick(kind, data, chart) {
    chart.on("click", function (p) {
      var d = p.data || {};
      if (kind === "winrate" && d.row) {
        window.location.href = data.urls.paired + "?metric=" + encodeURIComponent(data.metric) +
          "&a=" + encodeURIComponent(d.row) + "&b=" + encodeURIComponent(d.col);
      } else if (d.key) {
        openQuestion(data, d.key);
      }
    });
  }

  function draw(root) {
    var script = root.querySelector ? root.querySelector("#report-data") : null;
    script = script || document.getElementById("report-data");
    if (!script || !window.echarts) return;
    var data = JSON.parse(script.textContent || "null");
    if (!data) return;
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      var kind = el.getAttribute("data-chart");
      if (!BUILDERS[kind]) return;
      var old = window.echarts.getInstanceByDom(el);
      if (old) old.dispose();
      if (kind === "histogram" || kind === "ecdf") {  // room for the wrapped legend
        el.style.height = 318 + legendTop(data, el.clientWidth) + "px";
      }
      var chart = window.echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(BUILDERS[kind](data, el.clientWidth));
      onClick(kind, data, chart);
    });
  }

  function resizeAll() {
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts && window.echarts.getInstanceByDom(el);
      if (chart) chart.resize();
    });
  }

  window.familiarCharts = { esc: esc, fmt: fmt, questionTip: questionTip, options: BUILDERS,
                            logTicks: logTicks, legendRows: legendRows };
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  // after htmx swaps a finished scan in (outerHTML: the old target is gone), draw the page
  document.addEventListener("htmx:afterSettle", function () { draw(document); });
  window.addEventListener("resize", resizeAll);
})();
