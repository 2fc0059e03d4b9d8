"""Answers of a mixed task judged per question, every judgement visible, agreement with the
file's own `correct` field, on both databases."""

from __future__ import annotations

import json

import pytest

from tests.jobs.contexts import claimed_context
from tests.scoring.tiny import tiny_tokenizer
from workers.jobs.analyze import analyze_responses

OPTIONS_Q = "Where do you buy milk?\n(1) meeting (2) office (3) supermarket (4) garage (5) library"
CODE_TESTS = json.dumps(["assert add(1, 2) == 3", "assert add(0, 0) == 0"])
FENCE = "```python\n"
ROWS = [  # (question, answer, gold, the file's own verdict)
    ("Tom has 20 apples and finds 1. How many?", "He has 21.0 apples.", "21", True),
    ("Ann has 3 pens and buys 4 more. How many?", "Final Answer: 7", "7.0", True),
    ("Is 9 a prime number?", "No, 9 = 3 x 3. Final answer: false", "False", True),
    (OPTIONS_Q, "(1): meeting no... The correct answer is (5): supermarket", "5", True),
    (OPTIONS_Q, "The answer is (3) supermarket", "3", True),
    ("Write add(a, b).", f"{FENCE}def add(a, b):\n    return a + b\n```", CODE_TESTS, False),
    ("Write add(a, b) again.", f"{FENCE}def add(a, b):\n    return a - b\n```", CODE_TESTS, False),
    (
        "Write add(a, b), slowly.",
        f"{FENCE}def add(a, b):\n    while True: pass\n```",
        CODE_TESTS,
        False,
    ),
    (
        "Who wrote <b>Hamlet</b>?",
        "Final Answer: <script>x</script> Shakespeare",
        "Shakespeare",
        True,
    ),
]


def _upload(client) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "mixed"}).json()["id"]
    rows = [{"question": q, "answer": a, "gold_label": g, "correct": c} for q, a, g, c in ROWS]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    files = [("files", ("mixed.jsonl", data, "application/json"))]
    upload = client.post(f"/api/v1/projects/{pid}/uploads", files=files)
    assert upload.status_code == 201, upload.text
    return pid, upload.json()["job_id"]


@pytest.fixture
def judged(client, monkeypatch: pytest.MonkeyPatch) -> int:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("workers.jobs.analyze.load_tokenizer", lambda *a, **k: tiny_tokenizer())
    monkeypatch.setattr("workers.judging.code.PER_TEST_S", 0.5)
    pid, job_id = _upload(client)
    analyze_responses(claimed_context(job_id))
    return pid


def test_each_question_has_its_own_type_and_verdict(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/api/v1/projects/{judged}/judgements").json()
    items = page["items"]
    assert [i["answer_type"] for i in items] == [
        "number",
        "number",
        "yesno",
        "option",
        "option",
        "code",
        "code",
        "code",
        "text",
    ]
    assert [i["verdict"] for i in items] == [
        True,
        True,
        True,
        False,
        True,
        True,
        False,
        False,
        True,
    ]
    contradiction = items[3]
    assert "option 5" in contradiction["reason"] and "option 3" in contradiction["reason"]
    assert contradiction["rule"] == "option"
    assert page["answer_types"] == {"number": 2, "yesno": 1, "option": 2, "code": 3, "text": 1}


def test_code_tests_are_recorded_one_by_one(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    items = client.get(f"/api/v1/projects/{judged}/judgements").json()["items"]
    statuses = [[t["status"] for t in i["details"]["tests"]] for i in items[5:8]]
    assert statuses[0] == ["passed", "passed"]
    assert statuses[1] == ["failed", "passed"]
    assert statuses[2] == ["timeout", "timeout"]


def test_agreement_with_the_files_own_verdicts(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/api/v1/projects/{judged}/judgements").json()
    s = page["strategies"][0]
    assert (s["n_judged"], s["n_correct"], s["n_file_verdicts"]) == (9, 6, 9)
    assert s["n_disagree"] == 2 and s["n_agree"] == 7  # the options contradiction, the good code
    disagree = client.get(f"/api/v1/projects/{judged}/judgements?show=disagree").json()
    assert [i["answer_type"] for i in disagree["items"]] == ["option", "code"]
    project = client.get(f"/api/v1/projects/{judged}").json()
    assert project["strategies"][0]["share_correct"] == pytest.approx(6 / 9)
    assert project["strategies"][0]["agreement"] == pytest.approx(7 / 9)
    assert project["strategies"][0]["n_file_verdicts"] == 9
    html = client.get(f"/projects/{judged}").text
    assert "Agrees with file" in html and "judgements?show=disagree" in html


def test_page_shows_the_chain_and_escapes_user_text(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/projects/{judged}/judgements").text
    assert f'href="/api/v1/projects/{judged}/judgements"' in html
    assert "<script>x</script>" not in html and "&lt;script&gt;" in html
    assert "&lt;b&gt;Hamlet" in html
    assert "the answer says option 5" in html
    fragment = client.get(
        f"/projects/{judged}/judgements?show=wrong", headers={"HX-Request": "true"}
    )
    assert "<html" not in fragment.text and "wrong" in fragment.text


def test_bad_filter_is_a_clear_error(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    r = client.get(f"/api/v1/projects/{judged}/judgements?show=maybe")
    assert r.status_code in (400, 422) and "show must be one of" in r.text


def test_question_pages_show_the_answer_type(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    items = client.get(f"/api/v1/projects/{judged}/questions").json()["items"]
    assert [q["answer_type"] for q in items][:4] == ["number", "number", "yesno", "option"]
    qid = items[2]["id"]
    html = client.get(f"/projects/{judged}/questions/{qid}").text
    assert ">yesno</span>" in html


def test_more_responses_than_one_batch_are_all_judged(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr("workers.jobs.analyze.load_tokenizer", lambda *a, **k: tiny_tokenizer())
    monkeypatch.setattr("workers.jobs.analyze.BATCH", 4)
    pid, job_id = _upload(client)
    analyze_responses(claimed_context(job_id))
    page = client.get(f"/api/v1/projects/{pid}/judgements").json()
    assert page["total"] == len(ROWS) and page["strategies"][0]["n_judged"] == len(ROWS)


def test_responses_without_a_rule_verdict_are_analyzed_again(client, session) -> None:  # type: ignore[no-untyped-def]
    """A project imported before per-question judging gets an analyze job on start."""
    from sqlalchemy import delete, select

    from app.jobs.states import JobState
    from app.models import Job, Judgement
    from app.services.judgements import queue_rejudging

    pid, job_id = _upload(client)
    session.get(Job, job_id).status = JobState.SUCCEEDED.value  # analyzed by the old code
    session.execute(delete(Judgement))
    session.commit()
    assert queue_rejudging(session) == [pid]
    session.commit()
    assert queue_rejudging(session) == []  # one job is enough
    kinds = session.scalars(select(Job.kind).where(Job.project_id == pid, Job.status == "queued"))
    assert list(kinds) == ["analyze"]


def test_list_groups_by_question_and_filters_by_strategy(  # type: ignore[no-untyped-def]
    client, judged: int
) -> None:
    rows = [{"question": q, "answer": "42", "gold_label": g} for q, _, g, _ in ROWS]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    files = [("files", ("second.jsonl", data, "application/json"))]
    upload = client.post(f"/api/v1/projects/{judged}/uploads", files=files)
    assert upload.status_code == 201, upload.text
    analyze_responses(claimed_context(upload.json()["job_id"]))
    page = client.get(f"/api/v1/projects/{judged}/judgements").json()
    assert len(page["items"]) == 2 * len(ROWS)
    html = client.get(f"/projects/{judged}/judgements").text
    listing = html[html.index('<table class="table judgements">') :]
    assert listing.count('<tr class="group">') == len(ROWS)  # the question once, not per row
    assert listing.count("Tom has 20 apples") == 1
    second = next(s for s in page["strategies"] if s["name"] == "second")
    assert f'&strategy={second["strategy_id"]}">second</a>' in html
    only = client.get(f"/projects/{judged}/judgements?show=all&strategy={second['strategy_id']}")
    rows = only.text[only.text.index('<table class="table judgements">') :]
    assert rows.count("<td>second</td>") == len(ROWS) and "<td>mixed</td>" not in rows


def test_every_badge_class_in_the_templates_has_a_style() -> None:
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    used = {
        c
        for p in (root / "templates").rglob("*.html")
        for m in re.finditer(r'class="([^"{]*)"', p.read_text())
        for c in m.group(1).split()
        if c.startswith("badge-")
    }
    css = "".join(p.read_text() for p in (root / "static" / "css").glob("*.css"))
    assert used and not [c for c in sorted(used) if f".{c} " not in css and f".{c}," not in css]
