"""Bring your own metric: import (all or nothing, errors naming file, line and field), list,
delete, and the imported metric beside PPL/SPPL/IFD on a scan's result page."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.models import ImportedMetric, ImportedMetricValue, Question
from tests.app.test_results import N, rows, standard, upload


def post_metric(client, pid: int, body: str, filename: str = "rm.csv", **form):  # type: ignore[no-untyped-def]
    files = {"file": (filename, body.encode(), "text/csv")}
    return client.post(f"/api/v1/projects/{pid}/metrics", files=files, data=form)


def csv_rows(header: str, lines: list[str]) -> str:
    return "\n".join([header, *lines]) + "\n"


def stored(session) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return (
        session.scalar(select(func.count(ImportedMetric.id))),
        session.scalar(select(func.count(ImportedMetricValue.id))),
    )


def test_per_strategy_metric_ranks_beside_the_scans_own(client, session) -> None:  # type: ignore[no-untyped-def]
    pid, sid = standard(client, session)
    body = csv_rows("strategy,value", ["alpha,0.2", "beta,0.9", "gamma,0.5"])
    r = post_metric(client, pid, body, name="reward", direction="higher")
    assert r.status_code == 201, r.text
    got = r.json()["metrics"][0]
    assert got["name"] == "reward" and got["per"] == "strategy" and not got["lower_is_better"]
    assert got["means"] == {"alpha": 0.2, "beta": 0.9, "gamma": 0.5}
    assert got["source_filename"] == "rm.csv"

    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    imp = page["imported"]["metrics"][0]
    assert imp["ranking"]["order"] == ["beta", "gamma", "alpha"]  # higher is better
    assert imp["source"].startswith("imported from rm.csv, ")
    pairs = {(p["metric_a"], p["metric_b"]): p for p in page["imported"]["agreement"]["pairs"]}
    # SPPL order alpha < beta < gamma (lower better); reward prefers beta > gamma > alpha
    assert pairs[("sppl", "reward")]["spearman"] == pytest.approx(-0.5)
    html = client.get(f"/projects/{pid}/scans/{sid}").text
    assert "Imported metrics" in html and "badge-imported" in html and "rm.csv" in html

    client.cookies.clear()  # a script again, not the browser session the page started
    accuracies = b"strategy,accuracy\nalpha,0.5\nbeta,0.7\ngamma,0.6\n"
    client.post(f"/api/v1/projects/{pid}/accuracies", files={"file": ("a.csv", accuracies)})
    picks = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()["accuracy"]["top_picks"]
    reward = next(p for p in picks if p["metric"] == "reward")
    assert reward["imported"] and reward["picks"] == ["beta"] and reward["top_pick_is_best"]


def test_per_question_metric_with_external_ids_gets_paired_tests(client, session) -> None:  # type: ignore[no-untyped-def]
    data = {s: [dict(r, id=f"q{i}") for i, r in enumerate(rows(s))] for s in ("A", "B")}
    pid = upload(client, {"alpha": data["A"], "beta": data["B"]})
    lines = [
        f"{s},q{i},{(1.0 if s == 'alpha' else 2.0) + i}"
        for s in ("alpha", "beta")
        for i in range(N)
    ]
    r = post_metric(
        client,
        pid,
        csv_rows("strategy,question_id,value", lines),
        filename="judge.csv",
        name="judge",
        direction="lower",
    )
    assert r.status_code == 201, r.text
    assert r.json()["metrics"][0]["per"] == "question"
    from tests.app.test_results import make_scan

    sid = make_scan(
        session,
        project_id=pid,
        values={
            "sppl": {"alpha": [1.0 + i for i in range(N)], "beta": [1.5 + i for i in range(N)]}
        },
    )
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    ranking = page["imported"]["metrics"][0]["ranking"]
    assert ranking["order"] == ["alpha", "beta"]
    assert ranking["recommendation"]["evidence"] == "strong"  # beta worse on every question
    assert ranking["strategies"][1]["vs_top"]["n_pairs"] == N


def test_a_metric_per_row_and_samples(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    lines = [
        json.dumps({"metric": "rm", "direction": "higher", "strategy": s, "sample": k, "value": v})
        for k, (a, b) in enumerate([(1, 2), (3, 1), (5, 4)])
        for s, v in (("alpha", a), ("beta", b))
    ]
    r = post_metric(client, pid, "\n".join(lines), filename="rm.jsonl")
    assert r.status_code == 201, r.text
    listing = client.get(f"/api/v1/projects/{pid}/metrics").json()
    assert listing["metrics"][0]["n_samples"] == 3 and listing["metrics"][0]["n_values"] == 6
    assert "ppl" in listing["built_in"]
    from app.services.metrics.store import project_metric_values

    mv = project_metric_values(session, project_id=pid)[0]
    assert mv.sample_means() == [
        {"alpha": 1, "beta": 2},
        {"alpha": 3, "beta": 1},
        {"alpha": 5, "beta": 4},
    ]
    assert "rm" in client.get(f"/projects/{pid}/metrics").text
    client.cookies.clear()
    assert client.delete(f"/api/v1/projects/{pid}/metrics/rm").json() == {"deleted_values": 6}
    assert stored(session) == (0, 0)
    assert client.delete(f"/api/v1/projects/{pid}/metrics/rm").status_code == 404


BAD = [
    (
        "strategy,value\nalpha,1\ndelta,2\n",
        {"name": "x", "direction": "lower"},
        "line 3, field 'strategy'",
        "no strategy named",
    ),
    (
        "strategy,question_id,value\nalpha,1,1\nalpha,999,2\n",
        {"name": "x", "direction": "lower"},
        "line 3, field 'question_id'",
        "no question with this question id",
    ),
    (
        "strategy,value\nalpha,1\n",
        {"name": "ppl", "direction": "lower"},
        "field 'name'",
        "built-in metric",
    ),
    (
        "metric,direction,strategy,value\nrm,lower,alpha,1\nSPPL,lower,beta,2\n",
        {},
        "line 3, field 'metric'",
        "built-in metric",
    ),
    (
        "metric,direction,strategy,value\nrm,lower,alpha,1\nrm,higher,beta,2\n",
        {},
        "line 3, field 'direction'",
        "mixed directions",
    ),
    (
        "strategy,value\nalpha,1\nbeta,abc\n",
        {"name": "x", "direction": "lower"},
        "line 3, field 'value'",
        "finite number",
    ),
    (
        "strategy,value\nalpha,1\nbeta,nan\n",
        {"name": "x", "direction": "lower"},
        "line 3, field 'value'",
        "finite number",
    ),
    (
        "strategy,value\nalpha,inf\n",
        {"name": "x", "direction": "lower"},
        "line 2, field 'value'",
        "finite number",
    ),
    (
        "strategy,value\nalpha,1\nalpha,2\n",
        {"name": "x", "direction": "lower"},
        "line 3, field 'value'",
        "already has a value",
    ),
    ("strategy,value\nalpha,1\n", {"name": "x"}, "line 2, field 'direction'", "lower or higher"),
]


@pytest.mark.parametrize(("body", "form", "where", "what"), BAD)
def test_bad_imports_are_refused_with_line_and_field_and_nothing_stored(
    client, session, body, form, where, what
) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    first = session.scalar(select(Question.id).where(Question.project_id == pid))
    body = body.replace("alpha,1,1", f"alpha,{first},1")  # a real (Familiar) question id
    r = post_metric(client, pid, body, **form)
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert detail.startswith("rm.csv") and where in detail and what in detail, detail
    assert stored(session) == (0, 0)


def test_json_with_nan_value_is_refused(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A")})
    body = '[{"strategy": "alpha", "value": 1.0}, {"strategy": "alpha", "question": "What is 1 plus 1?", "value": NaN}]'  # noqa: E501
    r = post_metric(client, pid, body, filename="m.json", name="x", direction="lower")
    assert r.status_code == 422 and "m.json" in r.json()["detail"]
    assert stored(session) == (0, 0)


def test_form_upload_redirects_and_a_new_upload_replaces(client, session) -> None:  # type: ignore[no-untyped-def]
    from tests.conftest import page_csrf

    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    token = page_csrf(client.get(f"/projects/{pid}/metrics").text)
    for body in ("strategy,value\nalpha,1\nbeta,2\n", "strategy,value\nalpha,5\n"):
        r = client.post(
            f"/projects/{pid}/metrics",
            files={"file": ("m.csv", body.encode())},
            data={"name": "m", "direction": "lower", "csrf_token": token},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
    assert stored(session) == (1, 1)


def test_deleting_the_project_or_a_strategy_takes_its_imported_values(client, session) -> None:  # type: ignore[no-untyped-def]
    pid = upload(client, {"alpha": rows("A"), "beta": rows("B")})
    body = csv_rows(
        "strategy,question,value", [f"{s},What is 1 plus 1?,1" for s in ("alpha", "beta")]
    )
    assert post_metric(client, pid, body, name="m", direction="lower").status_code == 201
    sid = next(
        s["id"]
        for s in client.get(f"/api/v1/projects/{pid}").json()["strategies"]
        if s["name"] == "beta"
    )
    assert client.delete(f"/api/v1/projects/{pid}/strategies/{sid}").status_code == 200
    assert stored(session) == (1, 1)
    assert client.delete(f"/api/v1/projects/{pid}").status_code == 200
    assert stored(session) == (0, 0)
