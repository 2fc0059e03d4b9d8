"""Answers no judge of Familiar's fits (plans for a planning domain) are "not judged": no
verdict, left out of every share correct and of the scan's correctness rule, never 0%."""

from __future__ import annotations

import pytest

from tests.app.planning_project import scan_project, shares
from tests.app.planning_task import STRATEGIES


def test_plans_are_not_judged_never_zero_percent(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    assert shares(client, plans) == {name: (None, 0, 10) for name in STRATEGIES}
    page = client.get(f"/api/v1/projects/{plans}/judgements").json()
    assert {i["rule"] for i in page["items"]} == {"not judged"}
    assert {i["verdict"] for i in page["items"]} == {None}
    assert {i["verdict_source"] for i in page["items"]} == {"not_judged"}
    assert all("plan" in i["reason"] for i in page["items"])
    s = page["strategies"][0]
    assert (s["n_judged"], s["share_correct"], s["n_not_judged"]) == (0, None, 10)
    html = client.get(f"/projects/{plans}").text
    assert "not judged 10" in html and "ask the LLM judge" in html
    judgements = client.get(f"/projects/{plans}/judgements").text
    assert "20 answers are not judged" in judgements
    assert "Ask an LLM judge" in judgements and "use the verdicts the file carries" in judgements
    only = client.get(f"/api/v1/projects/{plans}/judgements?show=not_judged").json()
    assert only["total"] == 20


def test_a_scan_keeps_the_correctness_rule_off_for_answers_not_judged(  # type: ignore[no-untyped-def]
    client, plans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = scan_project(client, plans, monkeypatch)
    got = page["summary"]["correct_share"]
    assert {s: (v["n"], v["not_judged"]) for s, v in got.items()} == {
        name: (0, 10) for name in STRATEGIES
    }
    rule = page["report"]["correctness"]
    assert rule["active"] is False and rule["passed_over"] == {}
    assert "20 answers not judged" in rule["note"]
