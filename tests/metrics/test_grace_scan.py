"""GRACE through the real scan core on a tiny model, then stored and shown like any metric.

The strategy's GRACE is the registry's aggregate of its stored projected gradients: the
scan core's value, the stored report's and a recomputation from ``scan_vectors`` agree,
and the metric shows on the scan page, its JSON twin and both exports.
"""

from __future__ import annotations

import csv
import io

import pytest

from app.metrics import grace as grace_metric
from app.services.scan_report import load_vectors
from app.specs.scan import ScanInputError, ScanSpec
from tests.metrics.test_add_a_metric import _scanned
from tests.scoring.test_scan import QUESTIONS, RESPONSES, tiny_target
from workers.scoring.scan import run_scan


def test_a_scan_computes_grace_from_its_gradients() -> None:
    spec = ScanSpec(metrics=["ppl", "grace"], sample=6, seed=0, projection_dim=64)
    result = run_scan(spec, tiny_target(), QUESTIONS, RESPONSES)
    assert result.settings["gradients_resolved"] == "lora" and result.timings["gradients"] > 0
    means = {}
    for strategy, rows in result.values.items():
        vectors = {r["question_key"]: r["vector"] for r in rows["grace"]}
        assert len(vectors) == 6 and all(len(v) == 64 for v in vectors.values())
        assert all(r["value"] > 0 for r in rows["grace"])  # the raw gradient norms
        means[strategy] = result.aggregates[strategy]["grace"]["mean"]
        assert means[strategy] == pytest.approx(grace_metric.score(vectors), rel=1e-12)
    best = min(means, key=means.__getitem__)
    assert result.aggregates[best]["grace"]["rank"] == 1
    assert len(set(means.values())) == 2


def test_the_gradient_mode_is_validated() -> None:
    with pytest.raises(ScanInputError, match="did you mean 'lora'"):
        ScanSpec(gradients="lroa")


def test_grace_shows_on_the_scan_page_json_and_exports(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = _scanned(client, session, ["ppl", "grace"])
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}", params={"metric": "grace"}).json()
    report = page["report"]
    assert report["labels"]["grace"] == "GRACE" and "grace" in report["metrics"]
    ranking = report["per_metric"]["grace"]["ranking"]
    stored = load_vectors(session, scan_id=sid)["grace"]
    assert set(stored) == {"alpha", "beta", "gamma"}
    for row in ranking["strategies"]:
        recomputed = grace_metric.score(stored[row["name"]])
        assert row["mean"] == pytest.approx(recomputed, rel=1e-9)
    assert ranking["order"][0] == min(stored, key=lambda s: grace_metric.score(stored[s]))
    assert "strategy-level score" in ranking["method"]
    html = client.get(f"/projects/{pid}/scans/{sid}", params={"metric": "grace"}).text
    assert "GRACE" in html
    base = f"/api/v1/projects/{pid}/scans/{sid}"
    report_csv = list(csv.DictReader(io.StringIO(client.get(f"{base}/report.csv").text)))
    assert "grace" in {r["metric"] for r in report_csv}
    values_csv = list(csv.DictReader(io.StringIO(client.get(f"{base}/values.csv").text)))
    assert {r["strategy"] for r in values_csv if r["metric"] == "grace"} == {
        "alpha",
        "beta",
        "gamma",
    }
    form = client.get(f"/projects/{pid}").text
    assert 'value="grace"' in form
