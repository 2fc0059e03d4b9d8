"""A code task file whose tests sit in their own field (MBPP-style ``test_list``, a Python
list literal in single quotes in some rows and a JSON list in others, with setup code):
the upload finds the field, the judge runs the tests in the sandbox against each answer's
code, agrees with the file's own verdicts, and every verdict says where the tests came
from. On both databases."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.jobs.contexts import claimed_context
from tests.scoring.tiny import tiny_tokenizer
from workers.jobs.analyze import analyze_responses

DATA = Path(__file__).resolve().parents[1] / "data" / "mbpp_style.jsonl"
# MBPP's own columns (task in `text`, reference code in `code`), 5 tasks written for this
TEXT_CODE = DATA.with_name("mbpp_text_code.jsonl")
FROM_FIELD = "tests from the file's field 'test_list'"
# The file's verdict that running its listed tests contradicts: the terse answer to task 3
# passes all four listed tests, but the file (graded with tests it does not list) says wrong.
EXPECTED_DISAGREEMENTS = 1


def _upload(client, data: bytes | None = None, **form: str):  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "mbpp"}).json()["id"]
    files = [("files", ("mbpp_style.jsonl", data or DATA.read_bytes(), "application/json"))]
    return pid, client.post(f"/api/v1/projects/{pid}/uploads", files=files, data=form)


@pytest.fixture
def fast_judging(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("workers.jobs.analyze.load_tokenizer", lambda *a, **k: tiny_tokenizer())
    monkeypatch.setattr("workers.judging.code.PER_TEST_S", 1.0)


@pytest.fixture
def judged(client, fast_judging: None) -> int:  # type: ignore[no-untyped-def]
    pid, upload = _upload(client)
    assert upload.status_code == 201, upload.text
    analyze_responses(claimed_context(upload.json()["job_id"]))
    return pid


def test_the_upload_finds_the_tests_field(client) -> None:  # type: ignore[no-untyped-def]
    _, upload = _upload(client)
    assert upload.status_code == 201, upload.text
    strategies = upload.json()["strategies"]
    assert [(s["name"], s["tests_field"], s["n_with_tests"]) for s in strategies] == [
        ("explained", "test_list", 8),
        ("terse", "test_list", 8),
    ]


def test_the_judge_runs_the_tests_and_agrees_with_the_file(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    page = client.get(f"/api/v1/projects/{judged}/judgements").json()
    items = page["items"]
    assert len(items) == 16 and {i["answer_type"] for i in items} == {"code"}
    assert all(i["tests_from"] == "test_list" and FROM_FIELD in i["reason"] for i in items)
    n_files = sum(s["n_file_verdicts"] for s in page["strategies"])
    n_agree = sum(s["n_agree"] for s in page["strategies"])
    assert (n_files, n_agree) == (16, 16 - EXPECTED_DISAGREEMENTS)  # 15 of 16: 93.75%
    by_name = {s["name"]: s for s in page["strategies"]}
    assert by_name["explained"]["share_correct"] == 1.0 and by_name["explained"]["agreement"] == 1
    assert by_name["terse"]["n_correct"] == 5  # 2, 3, 12, 17, 9001 pass; 4, 11, 14 fail
    setup_row = next(i for i in items if "circle_area" in i["question_text"])
    assert [t["status"] for t in setup_row["details"]["tests"]] == ["passed", "passed"]


def test_pages_say_where_the_tests_came_from(client, judged: int) -> None:  # type: ignore[no-untyped-def]
    html = client.get(f"/projects/{judged}/judgements").text
    assert "tests from field <code>test_list</code>" in html
    assert "tests from the file&#39;s field &#39;test_list&#39;" in html
    questions = client.get(f"/api/v1/projects/{judged}/questions").json()["items"]
    qid = next(q["id"] for q in questions if "remove first and last" in q["text"])
    question = client.get(f"/api/v1/projects/{judged}/questions/{qid}").json()["question"]
    assert question["tests_field"] == "test_list"
    assert question["tests"][0] == 'assert remove_Occ("hello","l") == "heo"'
    page = client.get(f"/projects/{judged}/questions/{qid}").text
    assert "3 tests from the file's field <code>test_list</code>" in page
    assert "assert remove_Occ(&#34;hello&#34;,&#34;l&#34;) == &#34;heo&#34;" in page


def test_without_the_tests_field_reference_code_is_not_judged_and_with_it_the_tests_judge(  # type: ignore[no-untyped-def]
    client, fast_judging: None
) -> None:
    """The bug was the reference code as the gold, matched as text: every answer wrong. With
    the tests field turned off such a gold now fits no judge ("not judged": no share correct,
    never 0%); with the tests field found the tests judge."""
    mapping = {
        "question_field": "prompt",
        "response_field": "response",
        "gold_field": "code",
        "strategy_field": "strategy",
    }
    shares = {}
    for tests in ("none", ""):
        pid, upload = _upload(client, tests_field=tests, **mapping)
        assert upload.status_code == 201, upload.text
        analyze_responses(claimed_context(upload.json()["job_id"]))
        page = client.get(f"/api/v1/projects/{pid}/judgements").json()
        shares[tests or "found"] = [s["share_correct"] for s in page["strategies"]]
    assert shares == {"none": [None, None], "found": [1.0, 5 / 8]}


def test_a_bad_literal_is_refused_with_its_place_and_nothing_stored(client) -> None:  # type: ignore[no-untyped-def]
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    rows[4]["test_list"] = "['assert f(1) == 1', __import__('os').system('touch /tmp/pwned')]"
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    pid, r = _upload(client, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["filename"], body["line"], body["field"]) == ("mbpp_style.jsonl", 5, "test_list")
    assert "calls a function" in body["detail"] and "never run" in body["detail"]
    assert client.get(f"/api/v1/projects/{pid}").json()["strategies"] == []


def test_the_browser_upload_says_which_field_held_the_tests(client) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "mbpp"}).json()["id"]
    files = [("files", ("mbpp_style.jsonl", DATA.read_bytes(), "application/json"))]
    html = client.post(f"/projects/{pid}/uploads", files=files).text
    assert "Tests of 8 code questions read from the field <code>test_list</code>" in html


def test_an_mbpp_file_with_text_and_code_uploads_without_a_mapping(client, fast_judging) -> None:  # type: ignore[no-untyped-def]
    """The reference solutions as a strategy (no response field: `code` is the response),
    then model answers beside them (`code` is then the gold); both judged by the tests."""
    rows = [json.loads(line) for line in TEXT_CODE.read_text().splitlines()]
    answers = [{**r, "response": r["code"].replace("max(a, max(b, c))", "a")} for r in rows]
    expected = {"mbpp_text_code": 1.0, "answers": 4 / 5}  # `return a` fails task 9105
    pid = client.post("/api/v1/projects", json={"name": "mbpp text"}).json()["id"]
    for name, data in (("mbpp_text_code", TEXT_CODE.read_bytes()), ("answers", _jsonl(answers))):
        files = [("files", (f"{name}.jsonl", data, "application/json"))]
        upload = client.post(f"/api/v1/projects/{pid}/uploads", files=files)
        assert upload.status_code == 201, upload.text
        [strategy] = upload.json()["strategies"]
        assert (strategy["layout"], strategy["tests_field"], strategy["n_with_tests"]) == (
            "mbpp",
            "test_list",
            5,
        )
        analyze_responses(claimed_context(upload.json()["job_id"]))
    page = client.get(f"/api/v1/projects/{pid}/judgements").json()
    assert {s["name"]: s["share_correct"] for s in page["strategies"]} == expected
    questions = client.get(f"/api/v1/projects/{pid}/questions").json()["items"]
    assert len(questions) == 5 and questions[0]["text"].startswith("Write a function to return")
    qid = next(q["id"] for q in questions if "rectangle" in q["text"])
    question = client.get(f"/api/v1/projects/{pid}/questions/{qid}").json()["question"]
    assert question["gold"] == rows[3]["code"]  # the answers' file gave the reference as gold
    assert question["tests"] == [
        "assert rect_area(Rect(3, 4)) == 12",
        "assert rect_area(Rect(0, 9)) == 0",
    ]


def _jsonl(rows: list[dict]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in rows).encode()
