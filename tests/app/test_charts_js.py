"""charts.js options for many strategies: legends wrap (no paging), names whole, log ticks."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.paths import ROOT

pytestmark = pytest.mark.skipif(shutil.which("node") is None, reason="needs node")

SCRIPT = """
global.window = { addEventListener() {} };
global.document = { addEventListener() {}, querySelectorAll() { return []; } };
require(process.argv[1]);
const c = window.familiarCharts;
const names = Array.from({ length: 15 }, (_, i) => "strategy_with_a_long_name_" + i);
const series = names.map((n) => ({ strategy: n, n: 2, counts: [1, 1] }));
const ecdf = Object.fromEntries(names.map((n) => [n, { x: [1.6, 2.4], y: [0.5, 1] }]));
const box = Object.fromEntries(names.map((n) => [n, { n: 2, median: 2, q1: 1.8, q3: 2.2,
  whisker_low: 1.6, whisker_high: 2.4, n_outliers: 0, outliers: [] }]));
const data = { label: "PPL", scale: "log", order: names, colors: {}, snippets: {},
  histogram: { edges: [1.6, 2.0, 2.4], log: true, series }, ecdf, box,
  scatter: { keys: [], series: {} },
  win_rate: { labels: names, win_rate: names.map(() => names.map(() => 0.5)),
              n_pairs: names.map(() => names.map(() => 3)) } };
const hist = c.options.histogram(data, 700);
const box_ = c.options.box(data);
const heat = c.options.winrate(data);
console.log(JSON.stringify({
  legend: hist.legend.type, rows: c.legendRows(names, 700), gridTop: hist.grid.top,
  histTicks: hist.xAxis.axisLabel.customValues, boxTicks: box_.xAxis.axisTick.customValues,
  wide: c.logTicks(1, 1000), hundred: c.logTicks(1, 100), small: c.logTicks(1.2, 30),
  narrow: c.logTicks(2.1, 4.3),
  boxLabel: box_.yAxis[0].axisLabel.overflow, heatX: heat.xAxis.axisLabel.overflow || null,
  heatY: heat.yAxis[0] ? null : heat.yAxis.axisLabel.overflow,
}));
"""


def test_options_for_fifteen_strategies() -> None:
    out = subprocess.run(
        ["node", "-e", SCRIPT, str(ROOT / "static" / "js" / "charts.js")],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout)
    assert got["legend"] == "plain" and got["rows"] >= 4  # wraps onto rows, never pages
    assert got["gridTop"] >= 22 * got["rows"] + 30  # the plot starts below the legend
    # log axes tick at round values, never at powers of a base (1.5, 2.25, 3.38)
    assert got["histTicks"] == got["boxTicks"] == [1.6, 1.8, 2, 2.2, 2.4]  # PPL 1.6-2.4
    assert got["wide"] == [1, 10, 100, 1000]  # one per decade
    assert got["hundred"] == [1, 2, 5, 10, 20, 50, 100]  # 1-2-5 per decade
    assert got["small"] == [2, 5, 10, 20]
    assert got["narrow"] == [2.5, 3, 3.5, 4]  # too narrow for decades: round steps
    assert got["boxLabel"] == "breakAll" and got["heatY"] == "breakAll"  # wrapped, not cut
    assert got["heatX"] is None  # column names stand whole at an angle


STUDY = """
global.window = { addEventListener() {} };
global.document = { readyState: "complete", getElementById() { return null; },
                    addEventListener() {}, querySelectorAll() { return []; } };
require(process.argv[1]);
const b = window.familiarStudyCharts;
const data = { metrics: ["sppl", "ppl", "ifd", "length", "mean_logprob"],
  labels: { sppl: "SPPL", ppl: "PPL", ifd: "IFD", length: "Length", mean_logprob: "Mean log-prob" },
  pick: [31, 32, 33, 34, 35], oracle: [80, 80, 80, 80, 80], random: [50, 50, 50, 50, 50],
  points: { sppl: [[5, 0.5, "P"]], ppl: [[5, 0.5, "P"]], ifd: [[5, 0.5, "P"]] } };
const picks = b.picks(data), spread = b.spread(data);
console.log(JSON.stringify({
  yMin: picks.yAxis.min, yScale: picks.yAxis.scale || false,
  interval: picks.xAxis.axisLabel.interval,
  symbols: spread.series.map((s) => s.symbol), sizes: spread.series.map((s) => s.symbolSize),
  fill: spread.series[0].itemStyle.color,
}));
"""


def test_study_chart_options() -> None:
    out = subprocess.run(
        ["node", "-e", STUDY, str(ROOT / "static" / "js" / "study_chart.js")],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(out.stdout)
    assert got["yMin"] == 0 and not got["yScale"]  # a pick at 31 points is not drawn as zero
    assert got["interval"] == 0  # every metric's label shown (PPL, Length were dropped)
    assert len(set(got["symbols"][:3])) == 3 and len(set(got["sizes"][:3])) == 3
    assert got["fill"].endswith(",0)")  # hollow: points on the same spot all show
