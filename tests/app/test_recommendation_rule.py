"""The recommendation never endorses wrong data: the correctness rule on pages and exports."""

from __future__ import annotations

import csv
import io

import pytest

from app.models import Scan
from tests.app.test_results import IFD, LENGTH, PPL, SPPL, make_scan, rows, upload

# alpha is the most familiar by SPPL and IFD, beta by PPL; alpha's answers are all wrong.
WRONG_ALPHA = {
    "alpha": {"share": 0.0, "n": 16},
    "beta": {"share": 0.9, "n": 16},
    "gamma": {"share": 0.85, "n": 16},
}
VALUES = {"sppl": SPPL, "ppl": PPL, "ifd": IFD, "length": LENGTH}


def scan(client, session, correct_share):  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B"), "gamma": rows("C")})
    return pid, make_scan(session, project_id=pid, values=VALUES, correct_share=correct_share)


def test_most_familiar_strategy_with_no_correct_answer_is_not_recommended(client, session):  # type: ignore[no-untyped-def]
    pid, sid = scan(client, session, WRONG_ALPHA)
    report = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["report"]
    sppl = report["per_metric"]["sppl"]["ranking"]
    assert sppl["order"][0] == "alpha"  # still ranked first by familiarity ...
    assert report["recommendation"]["top"] == "beta"  # ... but not recommended
    assert report["recommendation"]["passed_over_above"] == ["alpha"]
    assert report["correctness"]["active"] and list(report["correctness"]["passed_over"]) == [
        "alpha"
    ]
    alpha = next(r for r in sppl["strategies"] if r["name"] == "alpha")
    assert alpha["rank"] == 1 and alpha["recommendable"] is False and not alpha["is_top"]

    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "Use <strong>beta</strong>" in html and "Use <strong>alpha</strong>" not in html
    assert "Passed over, though more familiar" in html
    assert "0% correct, 90 points below the best (90%, beta)" in html
    assert "not recommended" in html and "RECOMMEND_CORRECT_MARGIN" in html
    assert "<strong>alpha</strong>&nbsp;(recommended)" not in html
    assert "<strong>beta</strong>&nbsp;(recommended)" in html


def test_no_gold_answers_the_rule_is_inactive_and_the_page_says_so(client, session):  # type: ignore[no-untyped-def]
    pid, sid = scan(
        client, session, {"alpha": {"share": None, "n": 0}, "beta": {"share": None, "n": 0}}
    )
    report = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["report"]
    assert report["recommendation"]["top"] == "alpha"
    assert report["correctness"]["active"] is False
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "Use <strong>alpha</strong>" in html
    assert "the correctness rule is inactive" in html and "not recommended" not in html


def test_the_rankings_export_marks_what_is_not_recommendable(client, session):  # type: ignore[no-untyped-def]
    pid, sid = scan(client, session, WRONG_ALPHA)
    body = client.get(f"/api/v1/projects/{pid}/scans/{sid}/report.csv").text
    table = list(csv.DictReader(io.StringIO(body)))
    sppl = {r["strategy"]: r for r in table if r["metric"] == "sppl"}
    assert sppl["alpha"]["recommended"] == "false" and sppl["alpha"]["recommendable"] == "false"
    assert sppl["alpha"]["passed_over"].startswith("0% correct")
    assert sppl["beta"]["recommended"] == "true"
    assert {r["strategy"] for r in table if r["recommended"] == "true"} == {"beta"}
    report = client.get(f"/api/v1/projects/{pid}/scans/{sid}/report.json").json()
    assert report["report"]["recommendation"]["top"] == "beta"


def test_a_report_stored_before_the_rule_is_judged_on_read(client, session):  # type: ignore[no-untyped-def]
    pid, sid = scan(client, session, WRONG_ALPHA)
    row = session.get(Scan, sid)
    old = dict(row.summary)
    from app.services.scan_report import build_report, load_values

    values, truncated = load_values(session, scan_id=sid)
    old["report"] = build_report(values, truncated=truncated)  # as built before the rule
    del old["report"]["correctness"]
    row.summary = old
    session.commit()
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    assert page["report"]["recommendation"]["top"] == "beta"


def _trained(client, pid: int) -> None:  # type: ignore[no-untyped-def]
    """alpha (the most familiar, all wrong) trained worst; beta (the recommendation) best."""
    csv_ = b"strategy,accuracy\nalpha,0.31\nbeta,0.81\ngamma,0.60\n"
    r = client.post(f"/api/v1/projects/{pid}/accuracies", files={"file": ("a.csv", csv_)})
    assert r.status_code == 201, r.text


def test_the_recommendation_box_shows_the_recommendations_own_outcome_first(client, session):  # type: ignore[no-untyped-def]
    pid, sid = scan(client, session, WRONG_ALPHA)
    _trained(client, pid)
    picks = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["accuracy"]["top_picks"]
    assert picks[0]["metric"] == "recommendation" and picks[0]["picks"] == ["beta"]
    assert picks[0]["top_pick_is_best"] is True and picks[0]["regret"] == 0
    sppl = next(p for p in picks if p["metric"] == "sppl")
    assert sppl["picks"] == ["alpha"] and sppl["regret"] == pytest.approx(0.5)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    box = html[html.index('id="reco-title"') : html.index('id="correctness-rule"')]
    outcome = box[box.index('id="reco-outcome"') :]
    assert outcome.startswith(
        'id="reco-outcome">Measured accuracy: recommended <strong>beta</strong>'
    )
    assert "trained best</strong>, to 81.0%, the best of 3 trained strategies" in outcome
    assert 'class="bad"' not in box  # no red "50 points below the best" for a right pick
    assert "alpha (passed over by the correctness rule), trained to 31.0%, 50.0 points" in box
    row = html[html.index('id="recommendation-row"') :]
    row = row[: row.index("</tr>")]
    assert "Recommendation" in row and "with the correctness rule" in row and "beta" in row
    assert '<span class="good">yes</span>' in row


def test_a_study_has_a_row_for_the_recommendation(client, session):  # type: ignore[no-untyped-def]
    pid, _ = scan(client, session, WRONG_ALPHA)
    _trained(client, pid)
    sid = client.post("/api/v1/studies", json={"name": "s", "project_ids": [pid]}).json()["id"]
    page = client.get(f"/api/v1/studies/{sid}").json()
    assert page["metrics"][0] == "recommendation" and page["labels"]["recommendation"] == (
        "Recommendation"
    )
    summary = {s["metric"]: s["subsets"][0] for s in page["summary"]}
    assert summary["recommendation"]["pick_accuracy"] == pytest.approx(81.0)
    assert summary["sppl"]["pick_accuracy"] == pytest.approx(31.0)
    rows = {r["metric"]: r for r in page["rows"]}
    assert rows["recommendation"]["picks"] == [["beta"]] and rows["recommendation"]["regret"] == 0
    source = page["projects"][0]["sources"]["recommendation"]
    assert source.endswith("SPPL with the correctness rule")
    assert "Recommendation" in client.get(f"/studies/{sid}").text
