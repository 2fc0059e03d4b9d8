"""A project can use the verdicts its files carry (a `correct` field, however spelled):
they replace the judge's in every share correct and in the scan's correctness rule, shown
as "verdict from the file"."""

from __future__ import annotations

import pytest

from tests.app.planning_project import (
    ANALYZE_TOKENIZER,
    scan_project,
    shares,
    upload_planning,
)
from tests.app.planning_task import STRATEGIES, file_share
from tests.scoring.tiny import tiny_tokenizer


def test_the_files_verdicts_give_the_files_share_correct(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    r = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    assert r.status_code == 200 and r.json()["n_settled"] == 20
    got = shares(client, plans)
    assert got == {name: (file_share(name), 10, 0) for name in STRATEGIES}
    assert got["pddl_plans"][0] == pytest.approx(0.8)
    project = client.get(f"/api/v1/projects/{plans}").json()
    assert project["project"]["verdicts_from"] == "file"
    assert {s["n_from_file"] for s in project["strategies"]} == {10}
    assert "verdict from the file" in client.get(f"/projects/{plans}").text
    listing = client.get(f"/projects/{plans}/judgements?show=wrong").text
    assert "verdict from the file" in listing
    wrong = client.get(f"/api/v1/projects/{plans}/judgements?show=wrong").json()
    assert wrong["total"] == 2  # the file's two refused plans
    client.cookies.clear()  # the pages above set a browser session; the API is a script
    back = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "judge"})
    assert back.status_code == 200
    assert shares(client, plans) == {name: (None, 0, 10) for name in STRATEGIES}


@pytest.mark.parametrize(
    "spelling",
    [lambda ok: int(ok), lambda ok: "yes" if ok else "no", lambda ok: str(ok).lower()],
    ids=["1/0", "yes/no", "true/false"],
)
def test_the_files_verdicts_are_read_however_spelled(  # type: ignore[no-untyped-def]
    client, monkeypatch: pytest.MonkeyPatch, spelling
) -> None:
    monkeypatch.setattr(ANALYZE_TOKENIZER, lambda *a, **k: tiny_tokenizer())
    pid = upload_planning(client, spelling)
    client.put(f"/api/v1/projects/{pid}/verdicts-from", json={"verdicts_from": "file"})
    assert shares(client, pid)["pddl_plans"][0] == pytest.approx(0.8)


def test_a_bad_choice_is_refused(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    r = client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "llm"})
    assert r.status_code == 422
    client.cookies.clear()  # a script, not a browser: no CSRF token needed
    form = client.post(f"/projects/{plans}/verdicts-from", data={"verdicts_from": "maybe"})
    assert form.status_code == 422 and "verdicts_from must be judge or file" in form.text


def test_a_scan_uses_the_files_verdicts_once_chosen(  # type: ignore[no-untyped-def]
    client, plans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    page = scan_project(client, plans, monkeypatch)
    got = page["summary"]["correct_share"]
    assert got["worded_plans"]["share"] == 1.0 and got["worded_plans"]["n"] == 10
    assert got["pddl_plans"]["share"] == pytest.approx(0.8)
    assert got["pddl_plans"]["sources"] == {"file": 10}
    rule = page["report"]["correctness"]
    assert rule["active"] and list(rule["passed_over"]) == ["pddl_plans"]  # 20 points below
    assert "verdict from the file: 20" in rule["note"]
    html = client.get(f"/projects/{plans}/scans/{page['scan']['id']}").text
    assert "verdict from the file" in html
