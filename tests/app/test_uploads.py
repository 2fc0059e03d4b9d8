"""Uploads of real GSM8K strategy files and of bad input, all or nothing."""

from __future__ import annotations

import io
import json

import pytest

from tests.paths import GSM8K_DIR


def _project(client, name: str = "p") -> int:
    return client.post("/api/v1/projects", json={"name": name}).json()["id"]


def _file(name: str) -> tuple[str, bytes, str]:
    return (name, (GSM8K_DIR / name).read_bytes(), "application/json")


def _upload(client, pid: int, files: list[tuple[str, bytes, str]], **data):  # type: ignore[no-untyped-def]
    return client.post(
        f"/api/v1/projects/{pid}/uploads", files=[("files", f) for f in files], data=data
    )


def test_upload_real_files_matches_questions(client) -> None:
    pid = _project(client)
    r = _upload(client, pid, [_file("train_filtered.json"), _file("claude.json")])
    assert r.status_code == 201, r.text
    body = r.json()
    names = [s["name"] for s in body["strategies"]]
    assert names == ["train_filtered", "claude"]
    assert body["strategies"][0]["n_responses"] == 1000
    assert body["strategies"][1]["n_matched_questions"] == 1000
    assert body["job_id"] is not None
    page = client.get(f"/api/v1/projects/{pid}").json()
    assert page["n_questions"] == 1000 and page["n_shared"] == 1000
    assert page["coverage_warning"] is None
    q = client.get(f"/api/v1/projects/{pid}/questions?page=1").json()["items"][0]
    assert q["gold"] == "72.0"


def test_partial_coverage_warns(client) -> None:
    pid = _project(client)
    records = json.loads((GSM8K_DIR / "gpt4.json").read_bytes())[:10]
    _upload(client, pid, [_file("train_filtered.json")])
    _upload(client, pid, [("few.json", json.dumps(records).encode(), "application/json")])
    page = client.get(f"/api/v1/projects/{pid}").json()
    assert page["n_shared"] == 10
    assert "only 10 of 1000" in page["coverage_warning"]


def test_strategy_name_and_reupload_conflict(client) -> None:
    pid = _project(client)
    assert _upload(client, pid, [_file("gpt4.json")], strategy="GPT-4o").status_code == 201
    again = _upload(client, pid, [_file("claude.json")], strategy="GPT-4o")
    assert again.status_code == 409
    assert "already exists" in again.json()["detail"]
    responses = client.get(f"/api/v1/projects/{pid}").json()["strategies"]
    assert [(s["name"], s["n_responses"]) for s in responses] == [("GPT-4o", 1000)]
    replaced = _upload(client, pid, [_file("claude.json")], strategy="GPT-4o", replace="true")
    assert replaced.status_code == 201 and replaced.json()["strategies"][0]["replaced"]


def test_bad_json_line_is_named_and_nothing_is_stored(client) -> None:
    pid = _project(client)
    lines = [json.dumps({"prompt": f"q{i}", "response": f"a{i}"}) for i in range(1000)]
    lines[811] = '{"prompt": "broken", '
    bad = ("bad.jsonl", "\n".join(lines).encode(), "application/json")
    good = _file("gpt4.json")
    r = _upload(client, pid, [good, bad])
    assert r.status_code == 422
    body = r.json()
    assert body["filename"] == "bad.jsonl" and body["line"] == 812
    assert "line 812" in body["detail"]
    assert client.get(f"/api/v1/projects/{pid}").json()["strategies"] == []


@pytest.mark.parametrize(
    ("name", "payload", "expect"),
    [
        ("empty.json", b"", "empty"),
        ("latin.jsonl", '{"prompt": "caf\xe9", "response": "x"}'.encode("latin-1"), "UTF-8"),
        ("r.jsonl", b'{"prompt": "a"}\n', "response"),
        ("r.txt", b"just some words", "format"),
        (
            "dup.jsonl",
            b'{"id": 1, "prompt": "a", "response": "x"}\n{"id": 1, "prompt": "b", "response": "y"}',
            "line 2",
        ),
    ],
)
def test_bad_inputs_are_refused_with_where(client, name: str, payload: bytes, expect: str) -> None:
    pid = _project(client)
    r = _upload(client, pid, [(name, payload, "application/octet-stream")])
    assert r.status_code == 422, r.text
    assert name in r.json()["detail"]
    assert expect.lower() in r.json()["detail"].lower()
    assert client.get(f"/api/v1/projects/{pid}").json()["n_questions"] == 0


def test_size_limit(client, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.config import get_settings

    monkeypatch.setattr(get_settings(), "max_upload_mb", 0.001)
    pid = _project(client)
    r = _upload(client, pid, [_file("gpt4.json")])
    assert r.status_code == 422
    assert "gpt4.json" in r.json()["detail"]


def test_strategy_column_splits_one_file(client) -> None:
    pid = _project(client)
    rows = [
        {"strategy": s, "prompt": f"What is {i}+{i}?", "response": f"{2 * i} ({s})"}
        for s in ("terse", "chatty")
        for i in range(5)
    ]
    buf = io.StringIO()
    buf.write("\n".join(json.dumps(r) for r in rows))
    r = _upload(client, pid, [("mixed.jsonl", buf.getvalue().encode(), "application/json")])
    assert r.status_code == 201, r.text
    assert sorted(s["name"] for s in r.json()["strategies"]) == ["chatty", "terse"]
    assert client.get(f"/api/v1/projects/{pid}").json()["n_shared"] == 5


def test_mapping_override(client) -> None:
    pid = _project(client)
    rows = [{"q": "What is 2+2?", "a": "4", "alt": "four"}]
    data = json.dumps(rows).encode()
    r = _upload(client, pid, [("m.json", data, "application/json")])
    assert r.status_code == 422
    r = _upload(
        client, pid, [("m.json", data, "application/json")], question_field="q", response_field="a"
    )
    assert r.status_code == 201, r.text


def test_browser_upload_returns_fragment_and_escapes(client) -> None:
    pid = _project(client)
    rows = [{"prompt": "<script>alert(1)</script> 2+2?", "response": "<b>4</b>"}]
    r = client.post(
        f"/projects/{pid}/uploads",
        files=[("files", ("<img src=x>.json", json.dumps(rows).encode(), "application/json"))],
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 200, r.text
    assert "Uploaded 1 strategy" in r.text
    assert "<img src=x>" not in r.text
    sid = client.get(f"/api/v1/projects/{pid}").json()["strategies"][0]["id"]
    qid = client.get(f"/api/v1/projects/{pid}/questions").json()["items"][0]["id"]
    for url in (
        f"/projects/{pid}",
        f"/projects/{pid}/strategies/{sid}",
        f"/projects/{pid}/questions/{qid}",
        f"/projects/{pid}/questions",
    ):
        html = client.get(url).text
        assert "<script>alert(1)</script>" not in html, url
        assert "<b>4</b>" not in html, url


def test_browser_upload_error_fragment(client) -> None:
    pid = _project(client)
    r = client.post(
        f"/projects/{pid}/uploads",
        files=[("files", ("bad.jsonl", b'{"prompt": 1', "application/json"))],
        headers={"HX-Request": "true"},
    )
    assert r.status_code == 422
    assert "bad.jsonl" in r.text and "line 1" in r.text


def _sums(name: str, start: int, n: int = 10) -> tuple[str, tuple[str, bytes, str]]:
    """A file of `n` sums from `start` on, as the multipart tuple of `files`."""
    rows = [
        {"prompt": f"What is {i} + 1?", "response": str(i + 1)} for i in range(start, start + n)
    ]
    body = "\n".join(json.dumps(r) for r in rows).encode()
    return "files", (f"{name}.jsonl", body, "application/json")


def _send(client, pid: int, name: str, start: int, **data):  # type: ignore[no-untyped-def]
    files = [_sums(name, start)]
    return client.post(
        f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": name, **data}
    )


def test_an_upload_of_unrelated_questions_is_named(client) -> None:  # type: ignore[no-untyped-def]
    pid = client.post("/api/v1/projects", json={"name": "coverage"}).json()["id"]

    def send(name: str, offset: int) -> dict:
        r = _send(client, pid, name, offset)
        assert r.status_code == 201, r.text
        return r.json()

    assert send("a", 0)["coverage_note"] is None  # the first file sets the questions
    assert send("b", 0)["coverage_note"] is None  # the same questions
    body = send("c", 7)
    note = body["coverage_note"]
    assert "dropped from 10 to 3" in note
    assert "strategy 'c' from c.jsonl answers 3 of the 10 shared questions" in note
    assert "(7 questions no other strategy has)" in note
    assert (body["n_shared_before"], body["n_shared"]) == (10, 3)


def test_an_upload_sharing_no_question_is_refused_and_named(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, "no overlap")
    assert _send(client, pid, "a", 0).status_code == 201
    assert _send(client, pid, "b", 0).status_code == 201
    r = _send(client, pid, "test set", 100)
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["filename"] == "test set.jsonl"
    assert "shared questions 10 -> 0" in body["detail"]
    assert "strategy 'test set' from test set.jsonl answers 0 of the 10" in body["detail"]
    assert "new_question_set=true" in body["detail"]
    page = client.get(f"/api/v1/projects/{pid}").json()  # nothing of it was stored
    assert [s["name"] for s in page["strategies"]] == ["a", "b"]
    assert (page["n_questions"], page["n_shared"]) == (10, 10)

    r = _send(client, pid, "test set", 100, new_question_set="true")  # said on purpose
    assert r.status_code == 201, r.text
    assert "dropped from 10 to 0" in r.json()["coverage_note"]
    assert "new question set" in r.json()["coverage_note"]


def test_the_first_upload_of_files_with_no_common_question_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, "first")
    files = [_sums("a", 0), _sums("b", 50)]
    r = client.post(f"/api/v1/projects/{pid}/uploads", files=files)
    assert r.status_code == 422, r.text
    assert "no question in common (a.jsonl (10 questions), b.jsonl" in r.json()["detail"]
    assert client.get(f"/api/v1/projects/{pid}").json()["strategies"] == []


def test_browser_upload_refusal_names_the_file_and_the_box_to_tick(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, "browser")
    assert _send(client, pid, "a", 0).status_code == 201
    r = client.post(
        f"/projects/{pid}/uploads", files=[_sums("other", 40)], headers={"HX-Request": "true"}
    )
    assert r.status_code == 422
    assert "File: other.jsonl" in r.text and "10 -&gt; 0" in r.text
    page = client.get(f"/projects/{pid}").text
    assert 'name="new_question_set"' in page


def test_project_page_names_the_strategy_that_broke_the_overlap(client) -> None:  # type: ignore[no-untyped-def]
    pid = _project(client, "culprit")
    for name in ("a", "b"):
        assert _send(client, pid, name, 0).status_code == 201
    assert _send(client, pid, "c", 100, new_question_set="true").status_code == 201
    page = client.get(f"/api/v1/projects/{pid}").json()
    warning = page["coverage_warning"]
    assert "only 0 of 20 questions" in warning
    assert "'c' (c.jsonl) lacks 10 questions that every other strategy answers" in warning
    assert "without it 10 would be shared" in warning
    assert "'a'" not in warning and "'b'" not in warning and "Incomplete" not in warning
    assert {s["name"]: s["n_lacking"] for s in page["strategies"]} == {"a": 0, "b": 0, "c": 10}
    assert "lacks 10 shared" in client.get(f"/projects/{pid}").text
