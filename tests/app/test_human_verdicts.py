"""An editor or owner sets a response's verdict by hand: a human verdict (who, when) that
every number after uses; viewers neither see the control nor get through (403)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.app.planning_project import (
    ANALYZE_TOKENIZER,
    response_ids,
    shares,
)
from tests.app.planning_task import STRATEGIES, rows
from tests.app.test_results import make_scan
from tests.conftest import page_csrf
from tests.jobs.contexts import claimed_context
from tests.scoring.tiny import tiny_tokenizer
from workers.jobs.analyze import analyze_responses


def test_a_human_verdict_counts_everywhere_after(client, session, plans: int) -> None:  # type: ignore[no-untyped-def]
    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    refused = response_ids(session, plans, "pddl_plans")[2]  # the file says wrong
    url = f"/api/v1/projects/{plans}/responses/{refused}/verdict"
    r = client.put(url, json={"verdict": "right"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["correct"] is True and body["verdict_source"] == "human"
    assert body["verdict_by"] == "local user" and body["verdict_at"]
    assert shares(client, plans)["pddl_plans"] == (pytest.approx(0.9), 10, 0)
    # a later change of source or judging again leaves the human verdict alone
    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "judge"})
    assert shares(client, plans)["pddl_plans"] == (1.0, 1, 9)
    item = next(
        i
        for i in client.get(f"/api/v1/projects/{plans}/judgements").json()["items"]
        if i["response_id"] == refused
    )
    assert (item["correct"], item["verdict_source"]) == (True, "human")
    html = client.get(f"/projects/{plans}/judgements").text
    assert "human verdict" in html and f"/responses/{refused}/verdict" in html
    qid = item["question_id"]
    question = client.get(f"/projects/{plans}/questions/{qid}").text
    assert "human verdict" in question and "Set by hand" in question
    # the form sets one too, and returns to the page it came from
    token = page_csrf(question)
    form = client.post(
        f"/projects/{plans}/responses/{refused}/verdict",
        data={
            "verdict": "wrong",
            "back": f"/projects/{plans}/questions/{qid}",
            "csrf_token": token,
        },
        follow_redirects=False,
    )
    assert form.status_code == 303 and form.headers["location"].endswith(f"/questions/{qid}")
    assert shares(client, plans)["pddl_plans"] == (0.0, 1, 9)
    off_site = client.post(
        f"/projects/{plans}/responses/{refused}/verdict",
        data={"verdict": "clear", "back": "https://example.com/", "csrf_token": token},
        follow_redirects=False,
    )
    assert off_site.headers["location"] == f"/projects/{plans}/judgements"
    assert shares(client, plans)["pddl_plans"] == (None, 0, 10)  # back to "not judged"


def test_a_human_verdict_is_in_the_values_export(client, session, plans: int) -> None:  # type: ignore[no-untyped-def]
    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    first = response_ids(session, plans, "pddl_plans")[0]
    client.put(f"/api/v1/projects/{plans}/responses/{first}/verdict", json={"verdict": "wrong"})
    sid = make_scan(
        session, project_id=plans, values={"ppl": {n: [1.0, 2.0, 3.0] for n in STRATEGIES}}
    )
    text = client.get(f"/api/v1/projects/{plans}/scans/{sid}/values.csv").text
    table = list(csv.DictReader(io.StringIO(text)))
    pddl = [(r["correct"], r["verdict"]) for r in table if r["strategy"] == "pddl_plans"]
    assert pddl == [
        ("false", "human verdict"),
        ("true", "verdict from the file"),
        ("false", "verdict from the file"),
    ]


def test_a_response_of_another_project_or_a_bad_verdict_is_refused(client, plans: int) -> None:  # type: ignore[no-untyped-def]
    other = client.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    r = client.put(f"/api/v1/projects/{other}/responses/1/verdict", json={"verdict": "right"})
    assert r.status_code == 404
    r = client.put(f"/api/v1/projects/{plans}/responses/1/verdict", json={"verdict": "maybe"})
    assert r.status_code == 422


def test_only_editors_and_owners_set_verdicts(  # type: ignore[no-untyped-def]
    accounts_client, session, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app import db as app_db
    from app.security.accounts import create_user
    from tests.app.test_sessions import signed_in

    monkeypatch.setattr(ANALYZE_TOKENIZER, lambda *a, **k: tiny_tokenizer())
    with app_db.session_scope() as s:
        for name in ("carol", "erin"):
            create_user(s, username=name, password=f"{name} password!")
    c = accounts_client
    h = {"X-CSRF-Token": c.csrf}
    pid = c.post("/api/v1/projects", json={"name": "plans"}, headers=h).json()["id"]
    data = "".join(json.dumps(r) + "\n" for r in rows("pddl_plans")).encode()
    up = c.post(
        f"/api/v1/projects/{pid}/uploads",
        files=[("files", ("pddl_plans.jsonl", data, "application/json"))],
        headers=h,
    )
    analyze_responses(claimed_context(up.json()["job_id"]))
    for name, role in (("carol", "viewer"), ("erin", "editor")):
        body = {"username": name, "role": role}
        assert c.post(f"/api/v1/projects/{pid}/members", json=body, headers=h).is_success
    rid = response_ids(session, pid, "pddl_plans")[0]
    with (
        signed_in("carol", "carol password!") as carol,
        signed_in("erin", "erin password!") as erin,
    ):
        viewer_page = carol.get(f"/projects/{pid}/judgements").text
        assert "not judged" in viewer_page  # reads everything, but no control
        assert f"/responses/{rid}/verdict" not in viewer_page
        assert f'action="/projects/{pid}/verdicts-from"' not in viewer_page
        vh = {"X-CSRF-Token": carol.csrf}
        api = f"/api/v1/projects/{pid}/responses/{rid}/verdict"
        assert carol.put(api, json={"verdict": "right"}, headers=vh).status_code == 403
        form = carol.post(
            f"/projects/{pid}/responses/{rid}/verdict",
            data={"verdict": "right", "csrf_token": carol.csrf},
        )
        assert form.status_code == 403
        choice = {"verdicts_from": "file"}
        assert (
            carol.put(f"/api/v1/projects/{pid}/verdicts-from", json=choice, headers=vh).status_code
            == 403
        )
        editor_page = erin.get(f"/projects/{pid}/judgements").text
        assert f"/responses/{rid}/verdict" in editor_page
        eh = {"X-CSRF-Token": erin.csrf}
        r = erin.put(api, json={"verdict": "right"}, headers=eh)
        assert r.status_code == 200 and r.json()["verdict_by"] == "erin"


def test_a_scan_made_before_a_human_verdict_says_so_and_a_rescan_uses_it(  # type: ignore[no-untyped-def]
    client, session, plans: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stored report keeps the verdicts the scan ran with (its numbers are computed
    once); the result page says which shares changed since, and a rescan uses them."""
    from tests.app.planning_project import scan_project

    client.put(f"/api/v1/projects/{plans}/verdicts-from", json={"verdicts_from": "file"})
    before = scan_project(client, plans, monkeypatch)
    assert list(before["report"]["correctness"]["passed_over"]) == ["pddl_plans"]
    assert before["verdicts_changed"] is None
    wrong = [
        response_ids(session, plans, "pddl_plans")[i] for i in sorted(STRATEGIES["pddl_plans"])
    ]
    for rid in wrong:  # the file's two refused plans, judged right by a person
        url = f"/api/v1/projects/{plans}/responses/{rid}/verdict"
        assert client.put(url, json={"verdict": "right"}).status_code == 200
    sid = before["scan"]["id"]
    page = client.get(f"/api/v1/projects/{plans}/scans/{sid}").json()
    assert page["report"]["correctness"] == before["report"]["correctness"]  # as it ran
    assert page["verdicts_changed"] == {
        "changes": [
            {
                "strategy": "pddl_plans",
                "share_then": pytest.approx(0.8),
                "n_then": 10,
                "share_now": 1.0,
                "n_now": 10,
            }
        ],
        "n_by_hand": 2,
    }
    html = client.get(f"/projects/{plans}/scans/{sid}").text
    assert "2 verdicts changed since this scan; rescan to use them." in html
    note = html[html.index('id="verdicts-changed"') :][:900]
    assert "pddl_plans 80.0% then, 100.0% now" in note and f'href="/projects/{plans}#scans"' in note
    client.cookies.clear()  # the page set a browser session; the rescan below is a script
    after = scan_project(client, plans, monkeypatch)
    assert after["verdicts_changed"] is None
    assert after["report"]["correctness"]["passed_over"] == {}
    assert after["summary"]["correct_share"]["pddl_plans"]["sources"] == {"file": 8, "human": 2}
