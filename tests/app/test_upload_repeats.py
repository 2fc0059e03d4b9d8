"""Uploads with repeated questions, ids that share a text, and ground truth in another format."""

from __future__ import annotations

import json


def _project(client) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/projects", json={"name": "p"}).json()["id"]


def _upload(client, pid: int, name: str, rows: list[dict]):  # type: ignore[no-untyped-def]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return client.post(
        f"/api/v1/projects/{pid}/uploads", files=[("files", (name, data, "application/json"))]
    )


def _rows(answer: str) -> list[dict]:
    return [
        {"question": "How many legs has a cat?", "answer": answer, "gold_label": "4"},
        {"question": "What is 3 + 4?", "answer": answer, "gold_label": "7"},
        {"question": "How many legs has a  cat? ", "answer": answer, "gold_label": "4"},
        {"question": "What is 3 + 4?", "answer": answer, "gold_label": "8"},
    ]


def test_repeated_questions_are_accepted_and_paired(client) -> None:
    pid = _project(client)
    first = _upload(client, pid, "a.jsonl", _rows("x"))
    assert first.status_code == 201, first.text
    s = first.json()["strategies"][0]
    assert s["n_new_questions"] == 4
    assert s["repeats"]["rows"] == 2
    assert s["repeats"]["same_gold"] == 1 and s["repeats"]["different_gold"] == 1
    assert any("repeat an earlier question" in w for w in s["warnings"])
    second = _upload(client, pid, "b.jsonl", list(reversed(_rows("y")))).json()
    assert second["strategies"][0]["n_matched_questions"] == 4
    page = client.get(f"/api/v1/projects/{pid}").json()
    assert page["n_questions"] == 4 and page["n_shared"] == 4
    report = page["strategies"][0]["import_report"]
    assert report["repeats"]["rows"] == 2


def test_same_text_under_two_ids_stays_two_questions(client) -> None:
    pid = _project(client)
    rows = [
        {"id": "a", "question": "Same text?", "answer": "1"},
        {"id": "b", "question": "Same text?", "answer": "2"},
    ]
    assert _upload(client, pid, "a.jsonl", rows).status_code == 201
    other = [{"id": "c", "question": "Same text?", "answer": "3"}]
    assert _upload(client, pid, "b.jsonl", other).json()["strategies"][0]["n_new_questions"] == 1
    assert client.get(f"/api/v1/projects/{pid}").json()["n_questions"] == 3


def test_duplicate_ids_are_still_refused(client) -> None:
    pid = _project(client)
    rows = [
        {"id": "a", "question": "x", "answer": "1"},
        {"id": "a", "question": "y", "answer": "2"},
    ]
    r = _upload(client, pid, "a.jsonl", rows)
    assert r.status_code == 422 and "duplicate id 'a'" in r.json()["detail"]


def test_ground_truth_in_another_prompt_format_is_matched(client) -> None:
    pid = _project(client)
    q = "Where would you buy fresh bread and rolls?\n(A) bakery\n(B) garage\n(C) library"
    styled = [{"question": f"Answer the multiple-choice question.\n{q}", "answer": "A"}]
    assert _upload(client, pid, "s.jsonl", styled).status_code == 201
    gt_q = "Where would you buy fresh bread and rolls? A. bakery B. garage C. library"
    gt = _upload(client, pid, "gt.jsonl", [{"question": gt_q, "answer": "A", "gold_label": "A"}])
    s = gt.json()["strategies"][0]
    assert s["n_new_questions"] == 0 and s["matched_by"] == {"contained": 1}
