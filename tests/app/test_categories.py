"""Per category on a real multi-subject file (tests/app/multisubject.py): categories detected
on upload or mapped, heatmaps of a metric and of the responses' correctness, the pick per
category, the loss note on the result page, and the per-category mix as a training file."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Question, Response, Strategy
from tests.app.multisubject import subject, write_multisubject
from tests.app.test_results import make_scan
from tests.jobs.contexts import claimed_context
from tests.scoring.tiny import tiny_tokenizer
from workers.jobs.analyze import analyze_responses


def upload_files(client, paths: list[Path], **form) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    client.cookies.clear()
    pid = client.post("/api/v1/projects", json={"name": "subjects"}).json()["id"]
    files = [("files", (p.name, p.read_bytes(), "application/json")) for p in paths]
    r = client.post(f"/api/v1/projects/{pid}/uploads", files=files, data=form)
    assert r.status_code == 201, r.text
    return pid, r.json()["job_id"]


def categories(session, pid: int) -> list[str | None]:  # type: ignore[no-untyped-def]
    session.expire_all()
    return list(
        session.scalars(
            select(Question.category).where(Question.project_id == pid).order_by(Question.position)
        )
    )


def test_subject_field_is_detected_and_another_field_can_be_mapped(client, session, tmp_path):  # type: ignore[no-untyped-def]
    paths = write_multisubject(tmp_path)
    pid, _ = upload_files(client, paths)
    got = categories(session, pid)
    rows = json.loads(paths[0].read_text())
    assert got == [subject(r["question"]) for r in rows]
    assert Counter(got) == {"counting": 27, "money": 23, "time": 10}

    other = tmp_path / "other"
    other.mkdir()
    mapped = write_multisubject(other, n=10, field="topic")
    pid2, _ = upload_files(client, mapped, category_field="topic")
    assert set(categories(session, pid2)) <= {"counting", "money", "time"}
    pid3, _ = upload_files(client, mapped)  # "topic" is no known category field
    assert categories(session, pid3) == [None] * 10
    client.cookies.clear()
    files = [("files", ("x.json", mapped[0].read_bytes(), "application/json"))]
    r = client.post(
        f"/api/v1/projects/{pid3}/uploads",
        files=files,
        data={"category_field": "area", "strategy": "x"},
    )
    assert r.status_code == 422 and "field 'area'" in r.json()["detail"]


@pytest.fixture
def scanned(client, session, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    """The real file, judged by the rules, and a scan where gpt4 is more familiar on money
    and time questions and simple_response on counting ones (by a margin on each)."""
    monkeypatch.setattr("workers.jobs.analyze.load_tokenizer", lambda *a, **k: tiny_tokenizer())
    pid, job_id = upload_files(client, write_multisubject(tmp_path))
    analyze_responses(claimed_context(job_id))
    subjects = categories(session, pid)
    gpt4 = [2.0 + 0.01 * i for i in range(len(subjects))]
    simple = [v + (0.5 if s != "counting" else -0.3) for v, s in zip(gpt4, subjects, strict=True)]
    values = {"sppl": {"gpt4": gpt4, "simple_response": simple}}
    return pid, make_scan(session, project_id=pid, values=values)


def test_breakdown_page_and_twin(client, session, scanned) -> None:  # type: ignore[no-untyped-def]
    pid, sid = scanned
    page = client.get(f"/api/v1/projects/{pid}/scans/{sid}/categories").json()
    b = page["breakdown"]
    assert page["metric"] == "sppl" and b["overall_pick"] == "gpt4"
    assert b["categories"] == ["counting", "money", "time"]
    rows = {r["category"]: r for r in b["rows"]}
    assert rows["counting"]["pick"] == "simple_response" and rows["counting"]["overall_loses"]
    assert rows["money"]["pick"] == "gpt4" and rows["time"]["pick"] == "gpt4"
    assert b["losses"] == ["counting"]
    assert b["mix"] == {"counting": "simple_response", "money": "gpt4", "time": "gpt4"}
    # Accuracy: the rule judge's verdicts on the real responses, per category.
    acc = b["accuracy_heatmap"]
    assert acc["rows"] == b["categories"] and acc["cols"] == ["gpt4", "simple_response"]
    assert all(0 <= v <= 1 for row in acc["mean"] for v in row if v is not None)
    assert [sum(row) for row in acc["n"]] == [2 * 27, 2 * 23, 2 * 10]

    html = client.get(f"/projects/{pid}/scans/{sid}/categories").text
    assert "loses clearly on 1 category" in html and "counting" in html
    assert f'href="/api/v1/projects/{pid}/scans/{sid}/categories?metric=sppl"' in html
    result = client.get(f"/api/v1/projects/{pid}/scans/{sid}").json()
    assert result["categories"]["losses"] == ["counting"]
    assert (
        "gpt4 is the overall pick but loses clearly"
        in client.get(f"/projects/{pid}/scans/{sid}").text
    )


def test_category_mix_training_file(client, session, scanned) -> None:  # type: ignore[no-untyped-def]
    pid, sid = scanned
    r = client.get(f"/api/v1/projects/{pid}/scans/{sid}/category-mix.jsonl?form=alpaca")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    records = [json.loads(line) for line in r.text.splitlines()]
    answers = dict(
        session.execute(
            select(Question.text, Question.category).where(Question.project_id == pid)
        ).all()
    )
    texts = {
        (name, q): t
        for name, q, t in session.execute(
            select(Strategy.name, Question.text, Response.text)
            .join(Response, Response.strategy_id == Strategy.id)
            .join(Question, Question.id == Response.question_id)
            .where(Strategy.project_id == pid)
        )
    }
    assert len(records) == 60
    for rec in records:
        pick = "simple_response" if answers[rec["instruction"]] == "counting" else "gpt4"
        assert rec["output"] == texts[(pick, rec["instruction"])] and rec["input"] == ""
    assert (
        client.get(f"/api/v1/projects/{pid}/scans/{sid}/category-mix.jsonl?metric=ppl").status_code
        == 422
    )
