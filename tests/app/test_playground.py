"""The playground (issue 23): ask the untuned target or trained adapters one question. What
the page offers, what a start resolves and queues, how answers show (side by side, judged,
escaped), who may start one, and refused input."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import db as app_db
from app.models import Job, Question, ValidationRun
from app.security.accounts import create_user
from tests.app.test_results import IFD, PPL, SPPL, rows, upload
from tests.app.test_roles import _h, _upload
from tests.app.test_sessions import signed_in
from tests.app.test_validations import _validated
from tests.conftest import page_csrf

T, F = True, False
SCRIPT = "What is <script>alert(1)</script> 6 times 7?"


def _project_with_adapters(client, session: Session) -> tuple[int, list[ValidationRun]]:  # type: ignore[no-untyped-def]
    right = {"alpha": [T, T, T, F], "beta": [T, F, F, F], "gamma": [F, F, F, F]}
    pid, _, _ = _validated(client, session, right, values={"sppl": SPPL, "ppl": PPL, "ifd": IFD})
    runs = session.scalars(select(ValidationRun).order_by(ValidationRun.id)).all()
    for run in runs:  # as a worker's training records it: the best checkpoint's folder
        run.adapter_dir = f"/artifacts/run-{run.id}/best"
    session.commit()
    return pid, list(runs)


def _succeed(session: Session, job_id: int, answers: list[dict]) -> None:
    """What the worker's save writes: the job succeeded, its answers in ``result``."""
    job = session.get(Job, job_id)
    assert job is not None
    job.status = "succeeded"
    job.result = {"summary": "answered", "answers": answers}
    session.commit()


def test_a_run_asks_the_chosen_models_and_shows_their_answers(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, runs = _project_with_adapters(client, session)
    page = client.get(f"/api/v1/projects/{pid}/playground").json()
    assert [c["label"] for c in page["choices"]] == [
        "alpha, seed 0",
        "beta, seed 0",
        "gamma, seed 0",
    ]
    assert page["run"] is None and page["runs"] == []
    html = client.get(f"/projects/{pid}").text
    assert f'href="/projects/{pid}/playground"' in html  # linked from the project page

    question = session.scalars(
        select(Question).where(Question.project_id == pid).order_by(Question.position)
    ).first()
    assert question is not None and question.gold == "0"
    picked = client.get(f"/projects/{pid}/playground", params={"question": question.id}).text
    assert f'name="question_id" value="{question.id}"' in picked and "<code>0</code>" in picked
    shown_question = client.get(f"/projects/{pid}/questions/{question.id}").text
    assert f"/projects/{pid}/playground?question={question.id}" in shown_question

    client.cookies.clear()  # a script: no CSRF token needed in single mode
    body = {"question_id": question.id, "run_ids": [runs[0].id, runs[2].id], "max_new_tokens": 16}
    r = client.post(f"/api/v1/projects/{pid}/playground", json=body)
    assert r.status_code == 201, r.text
    job = r.json()
    assert job["kind"] == "playground" and job["queue"] == "gpu" and job["status"] == "queued"
    spec = job["spec"]
    assert spec["question"] == question.text and spec["gold"] == "0"
    assert spec["extractor"] == "last_number"  # the validation's
    assert spec["model"] == "packaged:SmolLM2-135M-Instruct" and spec["base"] is True
    assert spec["run_ids"] == [runs[0].id, runs[2].id] and spec["max_new_tokens"] == 16
    assert job["about"] == "asks the untuned target and 2 trained adapters a question"
    assert {"label": "the answers", "url": f"/projects/{pid}/playground?run={job['id']}"} in job[
        "links"
    ]

    waiting = client.get(f"/api/v1/projects/{pid}/playground").json()["run"]
    assert waiting["job"]["id"] == job["id"] and waiting["answers"] == []
    assert waiting["labels"] == ["target (untuned)", "alpha, seed 0", "gamma, seed 0"]
    polling = client.get(f"/projects/{pid}/playground?run={job['id']}").text
    assert "job-finished from:body" in polling and f"/jobs/{job['id']}/cancel" in polling

    answers = [
        {
            "label": "target (untuned)",
            "run_id": None,
            "output": "It is 1.",
            "extracted": "1",
            "correct": False,
            "why": "1 is not 0",
            "new_tokens": 4,
            "seconds": 0.5,
        },
        {
            "label": "alpha, seed 0",
            "run_id": runs[0].id,
            "output": "0 + 0 = <b>0</b>",
            "extracted": "0",
            "correct": True,
            "why": "",
            "new_tokens": 9,
            "seconds": 0.6,
        },
        {
            "label": "gamma, seed 0",
            "run_id": runs[2].id,
            "output": "no idea",
            "extracted": None,
            "correct": False,
            "why": "no answer found",
            "new_tokens": 2,
        },
    ]
    _succeed(session, job["id"], answers)
    shown = client.get(f"/api/v1/projects/{pid}/playground").json()["run"]
    assert [a["extracted"] for a in shown["answers"]] == ["1", "0", None]
    html = client.get(f"/projects/{pid}/playground").text
    assert 'class="side-by-side" style="--cols: 3"' in html
    assert html.count("matches the gold") == 1 and html.count("does not match") == 2
    assert "0 + 0 = &lt;b&gt;0&lt;/b&gt;" in html and "<b>0</b>" not in html
    assert "none found" in html
    # what the polling section fetches once the job ends: the run alone, with its answers
    part = client.get(f"/projects/{pid}/playground?run={job['id']}", headers={"HX-Request": "true"})
    assert part.text.lstrip().startswith('<section class="card" id="playground-run"')
    assert "matches the gold" in part.text and "playground-ask" not in part.text
    assert "job-finished" not in part.text  # finished: it polls no more

    # a second run: the newest is shown, the first is listed below as an earlier run
    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/playground", json={"question": "Why?"})
    second = r.json()
    assert second["spec"]["gold"] is None and second["spec"]["run_ids"] == []
    page = client.get(f"/api/v1/projects/{pid}/playground").json()
    assert page["run"]["job"]["id"] == second["id"]
    assert [x["job"]["id"] for x in page["runs"]] == [job["id"]]
    assert f"playground?run={job['id']}" in client.get(f"/projects/{pid}/playground").text
    # cancel works as for every job
    client.cookies.clear()
    assert client.post(f"/api/v1/jobs/{second['id']}/cancel").json()["status"] == "cancelled"


def test_a_typed_question_is_escaped_wherever_it_shows(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, _ = _project_with_adapters(client, session)
    client.cookies.clear()
    r = client.post(f"/api/v1/projects/{pid}/playground", json={"question": SCRIPT})
    assert r.status_code == 201, r.text
    job = r.json()
    _succeed(
        session,
        job["id"],
        [
            {
                "label": "target (untuned)",
                "run_id": None,
                "output": "<script>x()</script> 42",
                "extracted": "42",
                "correct": None,
            }
        ],
    )
    pages = [
        client.get(f"/projects/{pid}/playground").text,
        client.get(f"/projects/{pid}/playground?run={job['id']}").text,
        client.get("/jobs").text,
        client.get(f"/jobs/{job['id']}").text,
    ]
    for html in pages:
        assert "<script>alert" not in html and "<script>x()" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in pages[0]
    assert "&lt;script&gt;x()&lt;/script&gt; 42" in pages[0]
    assert "matches the gold" not in pages[0] and "not judged" in pages[0]  # no gold
    # the second run lists the first, escaped
    client.cookies.clear()
    client.post(f"/api/v1/projects/{pid}/playground", json={"question": "again"})
    listed = client.get(f"/projects/{pid}/playground").text
    assert "&lt;script&gt;alert(1)" in listed and "<script>alert" not in listed


def test_refused_input_names_the_field_and_keeps_the_form(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    pid, runs = _project_with_adapters(client, session)
    api = f"/api/v1/projects/{pid}/playground"
    client.cookies.clear()
    assert client.post(api, json={"question": "  "}).status_code == 422
    assert client.post(api, json={"question": "x", "base": False}).status_code == 422
    assert client.post(api, json={"question": "x", "max_new_tokens": 0}).status_code == 422
    other = _other_projects_question(client, session)
    r = client.post(api, json={"question_id": other})
    assert r.status_code == 422 and "not one of this project's" in r.json()["detail"]
    runs[1].status = "training"
    session.commit()
    client.cookies.clear()
    r = client.post(api, json={"question": "x", "run_ids": [runs[1].id]})
    assert r.status_code == 422 and "no trained adapter" in r.json()["detail"]

    page = client.get(f"/projects/{pid}/playground")
    form = {"csrf_token": page_csrf(page.text), "question": "Kept?", "max_new_tokens": "5000"}
    r = client.post(f"/projects/{pid}/playground", data=form)
    assert r.status_code == 422 and "The playground did not start." in r.text
    assert "Kept?</textarea>" in r.text and 'value="5000"' in r.text
    assert 'id="max_new_tokens-error"' in r.text
    assert session.scalar(select(Job.id).where(Job.kind == "playground")) is None

    form = {"csrf_token": page_csrf(page.text), "question": "Fine?", "base": "true"}
    r = client.post(f"/projects/{pid}/playground", data=form, follow_redirects=False)
    assert r.status_code == 303
    job_id = session.scalar(select(Job.id).where(Job.kind == "playground"))
    assert r.headers["location"] == f"/projects/{pid}/playground?run={job_id}"


def _other_projects_question(client, session: Session) -> int:  # type: ignore[no-untyped-def]
    pid = upload(client, {"x": rows("X", n=2)}, name="other")
    qid = session.scalar(select(Question.id).where(Question.project_id == pid))
    assert qid is not None
    return qid


def test_a_viewer_reads_earlier_runs_but_cannot_start_one(accounts_client) -> None:  # type: ignore[no-untyped-def]
    with app_db.session_scope() as s:
        for name in ("bob", "carol"):
            create_user(s, username=name, password=f"{name} password!")
    with (
        signed_in("bob", "bob password!") as bob,
        signed_in("carol", "carol password!") as carol,
    ):
        p = bob.post("/api/v1/projects", json={"name": "bob's"}, headers=_h(bob)).json()["id"]
        assert _upload(bob, p, "alpha").status_code == 201
        body = {"username": "carol", "role": "viewer"}
        assert bob.post(f"/api/v1/projects/{p}/members", json=body, headers=_h(bob)).is_success
        r = bob.post(f"/api/v1/projects/{p}/playground", json={"question": SCRIPT}, headers=_h(bob))
        assert r.status_code == 201, r.text

        r = carol.post(
            f"/api/v1/projects/{p}/playground", json={"question": "x"}, headers=_h(carol)
        )
        assert r.status_code == 403
        form = {"csrf_token": carol.csrf, "question": "x", "base": "true"}
        assert carol.post(f"/projects/{p}/playground", data=form).status_code == 403
        viewer = carol.get(f"/projects/{p}/playground").text
        assert "&lt;script&gt;alert(1)" in viewer  # the earlier run, escaped
        assert 'id="playground-ask"' not in viewer  # no form
        assert 'id="playground-ask"' in bob.get(f"/projects/{p}/playground").text
        assert "/cancel" not in viewer  # a viewer cannot cancel it either
        with app_db.session_scope() as s:
            assert s.scalar(select(Job.id).where(Job.kind == "playground").offset(1)) is None
