"""The recommendation never endorses wrong data: the correctness rule on pages and exports."""

from __future__ import annotations

import csv
import io

from app.models import Scan
from tests.app.test_results import IFD, LENGTH, PPL, SPPL, make_scan, rows, upload

# alpha is the most familiar by SPPL and IFD, beta by PPL; alpha's answers are all wrong.
WRONG_ALPHA = {"alpha": {"share": 0.0, "n": 16}, "beta": {"share": 0.9, "n": 16},
               "gamma": {"share": 0.85, "n": 16}}  # fmt: skip
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
    pid, sid = scan(client, session, {"alpha": {"share": None, "n": 0},
                                      "beta": {"share": None, "n": 0}})  # fmt: skip
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
