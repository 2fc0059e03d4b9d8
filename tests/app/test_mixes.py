"""Per-question mixes (issue 22): a new strategy of the most familiar response per question,
built from finished scans without a model (tests.app.test_results.make_scan)."""

from __future__ import annotations

import copy
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.metrics import registry
from app.models import Job, Response, Scan, Strategy, Validation
from app.security.accounts import create_user
from app.services.mixes import pick_per_question
from tests.app.test_results import PPL, SPPL, N, make_scan, question_ids, rows, upload
from tests.app.test_sessions import signed_in
from tests.app.test_validations import _set_test, _start
from tests.conftest import page_csrf


def _mix(client, pid: int, sid: int, **body):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/projects/{pid}/scans/{sid}/mix", json=body)


def _texts(session: Session, strategy_id: int) -> dict[int, str]:
    found = session.execute(
        select(Response.question_id, Response.text).where(Response.strategy_id == strategy_id)
    ).all()
    return dict(found)  # type: ignore[arg-type]


def _ids(session: Session, pid: int) -> dict[str, int]:
    query = select(Strategy.name, Strategy.id).where(Strategy.project_id == pid)
    return dict(session.execute(query).all())  # type: ignore[arg-type]


def test_picks_by_hand_both_directions_ties_and_gaps() -> None:
    values = {
        3: {10: 1.0, 11: 5.0, 12: 2.0, 13: 4.0},
        1: {10: 2.0, 11: 5.0, 12: None, 13: 4.0},
        2: {10: 3.0, 11: 0.5, 12: 1.0, 13: 4.0},
    }
    low, gaps = pick_per_question(values, lower_is_better=True)
    assert low == {10: 3, 11: 2, 13: 1} and gaps == 1  # 12 lacks a value; 13: a tie, id 1
    high, _ = pick_per_question(values, lower_is_better=False)
    assert high == {10: 2, 11: 1, 13: 1}  # 11: 5.0 twice, the lower id
    nan, gaps = pick_per_question({1: {7: float("nan")}, 2: {7: 1.0}}, lower_is_better=True)
    assert nan == {} and gaps == 1


def test_sppl_mix_takes_the_lowest_per_question(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=N), "beta": rows("B", n=N), "gamma": rows("C", n=N)})
    sppl = copy.deepcopy(SPPL)
    sppl["beta"][5] = None  # question 5 was not scored for every strategy: not in the mix
    sid = make_scan(session, project_id=pid, values={"sppl": sppl, "ppl": PPL})  # type: ignore[dict-item]
    r = _mix(client, pid, sid, metric="sppl")
    assert r.status_code == 201, r.text
    body = r.json()
    # By hand: gamma's SPPL is below alpha's where its offset is negative (2, 8, 14); at 4 the
    # two are equal and alpha (the lower id) wins; beta is never lowest.
    gamma = {2, 8, 14}
    expected = {i: ("C" if i in gamma else "A") for i in range(N) if i != 5}
    qids = question_ids(session, pid)
    texts = _texts(session, body["strategy_id"])
    assert texts == {qids[i]: f"{s} {2 * i}" for i, s in expected.items()}
    assert body["name"] == f"per-question SPPL mix (scan {sid})" and body["lower_is_better"]
    assert (body["n_questions"], body["n_incomplete"], body["n_left_out"]) == (N - 1, 1, 1)
    assert [(s["name"], s["n"]) for s in body["sources"]] == [("alpha", N - 4), ("gamma", 3)]
    assert "1 questions (1 of them scored for some strategies only)" in body["note"]
    strategy = session.get(Strategy, body["strategy_id"])
    assert strategy is not None and strategy.origin == "mix" and strategy.mix is not None
    assert strategy.mix["scan_id"] == sid and strategy.mix["metric"] == "sppl"
    assert strategy.mix["picks"][str(qids[2])] == _ids(session, pid)["gamma"]
    job = session.get(Job, body["job_id"])
    assert job is not None and job.kind == "analyze"  # tokens and answers counted as on upload

    page = client.get(f"/api/v1/projects/{pid}").json()
    mix = next(s for s in page["strategies"] if s["origin"] == "mix")
    assert mix["mix"]["scan_id"] == sid and "SPPL mix of scan" in mix["mix_note"]
    assert f"mix · SPPL · scan {sid}" in client.get(f"/projects/{pid}").text
    client.cookies.clear()  # a script again: no page session, so no CSRF token needed
    again = _mix(client, pid, sid, metric="sppl")
    assert again.status_code == 409 and "already has a strategy named" in again.json()["detail"]


def test_a_higher_is_better_metric_takes_the_highest(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    metric = registry.Metric(
        "closeness", "Closeness", False, "familiarity", "A test metric.", compute="x:y"
    )
    pid = upload(client, {"alpha": rows("A", n=N), "beta": rows("B", n=N), "gamma": rows("C", n=N)})
    values = {
        "alpha": [float(i) for i in range(N)],
        "beta": [float(N - i) for i in range(N)],
        "gamma": [5.0] * N,
    }
    with registry.registered(metric):
        sid = make_scan(session, project_id=pid, values={"sppl": SPPL, "closeness": values})
        r = _mix(client, pid, sid, metric="closeness", name="  closest  ")
    assert r.status_code == 201, r.text
    # By hand: beta (N - i) is highest below i = 8, alpha (i) above; at 8 a tie, alpha's id
    qids = question_ids(session, pid)
    expected = {qids[i]: f"{'B' if i < 8 else 'A'} {2 * i}" for i in range(N)}
    assert _texts(session, r.json()["strategy_id"]) == expected
    assert r.json()["name"] == "closest" and not r.json()["lower_is_better"]


def test_refusals_name_the_reason(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=N), "beta": rows("B", n=N)})
    two = {s: SPPL[s] for s in ("alpha", "beta")}
    sid = make_scan(session, project_id=pid, values={"sppl": two, "length": two})
    cases = {
        "grace": "no per-question values",
        "length": "descriptive",
        "spl": "did you mean 'sppl'",
        "ifd": "has no IFD values",
    }
    for metric, reason in cases.items():
        r = _mix(client, pid, sid, metric=metric)
        assert r.status_code == 422 and reason in r.json()["detail"], (metric, r.text)
    unfinished = Scan(project_id=pid, model_name="org/tiny-model", spec={"metrics": ["sppl"]})
    session.add(unfinished)
    session.commit()
    r = _mix(client, pid, unfinished.id, metric="sppl")
    assert r.status_code == 422 and "has not finished" in r.json()["detail"]
    assert _mix(client, pid, 999, metric="sppl").status_code == 404

    one = upload(client, {"alpha": rows("A", n=N)}, name="one")
    single = make_scan(session, project_id=one, values={"sppl": {"alpha": SPPL["alpha"]}})
    r = _mix(client, one, single, metric="sppl")
    assert r.status_code == 422 and "at least 2" in r.json()["detail"]
    assert session.scalars(select(Strategy).where(Strategy.origin == "mix")).all() == []


def test_the_scan_page_form_makes_a_mix_to_validate(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A", n=N), "beta": rows("B", n=N)})
    sid = make_scan(session, project_id=pid, values={"sppl": {s: SPPL[s] for s in SPPL}})
    page = client.get(f"/projects/{pid}/scans/{sid}?metric=sppl").text
    assert "Make a per-question mix from this scan's SPPL picks" in page
    form = {"metric": "sppl", "csrf_token": page_csrf(page)}
    r = client.post(f"/projects/{pid}/scans/{sid}/mix", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/projects/{pid}#strategies"
    ids = _ids(session, pid)
    mix = ids[f"per-question SPPL mix (scan {sid})"]

    client.cookies.clear()
    _set_test(client, pid, [(f"What is {i} times {i}?", str(i * i)) for i in range(6)])
    v = _start(client, pid, seeds=1, train_examples=10, val_examples=3, strategy_ids=[mix])
    validation = session.get(Validation, v["id"])
    assert validation is not None
    assert validation.spec["strategy_ids"] == [mix]
    assert json.dumps(validation.summary)  # started: its split was drawn from the mix


def test_a_viewer_cannot_make_a_mix(accounts_client, session: Session) -> None:  # type: ignore[no-untyped-def]
    from app import db as app_db

    with app_db.session_scope() as s:
        create_user(s, username="carol", password="carol password!")
    h = {"X-CSRF-Token": accounts_client.csrf}
    pid = accounts_client.post("/api/v1/projects", json={"name": "p"}, headers=h).json()["id"]
    for name, style in (("alpha", "A"), ("beta", "B")):
        files = [("files", ("s.json", json.dumps(rows(style, n=N)).encode(), "application/json"))]
        r = accounts_client.post(
            f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": name}, headers=h
        )
        assert r.status_code == 201, r.text
    sid = make_scan(session, project_id=pid, values={"sppl": {s: SPPL[s] for s in SPPL}})
    add = accounts_client.post(
        f"/api/v1/projects/{pid}/members", json={"username": "carol"}, headers=h
    )
    assert add.status_code == 201 and add.json()["role"] == "viewer"
    with signed_in("carol", "carol password!") as carol:
        url = f"/api/v1/projects/{pid}/scans/{sid}/mix"
        r = carol.post(url, json={"metric": "sppl"}, headers={"X-CSRF-Token": carol.csrf})
        assert r.status_code == 403, r.text
        page = carol.get(f"/projects/{pid}/scans/{sid}")
        assert page.status_code == 200
    assert session.scalars(select(Strategy).where(Strategy.origin == "mix")).all() == []
    assert accounts_client.post(url, json={"metric": "sppl"}, headers=h).status_code == 201
