"""Uploads with repeated questions, ids that share a text, and ground truth in another format."""

from __future__ import annotations

import io
import json
from collections.abc import Callable

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from app.models import Response, Strategy


def _project(client) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/projects", json={"name": "p"}).json()["id"]


def _upload(client, pid: int, name: str, rows: list[dict], **form: str):  # type: ignore[no-untyped-def]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return client.post(
        f"/api/v1/projects/{pid}/uploads",
        files=[("files", (name, data, "application/json"))],
        data=form,
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
    r = _upload(client, pid, "b.jsonl", other, new_question_set="true")  # no shared question
    assert r.json()["strategies"][0]["n_new_questions"] == 1
    assert client.get(f"/api/v1/projects/{pid}").json()["n_questions"] == 3


LAYOUTS: dict[str, Callable[[str, str], dict]] = {
    "qa": lambda q, a: {"question": q, "answer": a},
    "alpaca": lambda q, a: {"instruction": q, "input": "", "output": a},
    "prompt_response": lambda q, a: {"prompt": q, "response": a},
    "messages": lambda q, a: {
        "messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]
    },
    "sharegpt": lambda q, a: {
        "conversations": [{"from": "human", "value": q}, {"from": "gpt", "value": a}]
    },
}
FLAT = {"qa", "alpaca", "prompt_response"}


def _file(fmt: str, rows: list[dict]) -> bytes:
    """The rows as a file; `json` is an array on one line (every element on line 1)."""
    if fmt == "json":
        return json.dumps(rows).encode()
    if fmt == "json-indented":
        return json.dumps(rows, indent=1).encode()
    if fmt == "jsonl":
        return "".join(json.dumps(r) + "\n" for r in rows).encode()
    if fmt == "csv":
        head = list(rows[0])
        lines = [",".join(head)] + [",".join(str(r[k]) for k in head) for r in rows]
        return ("\n".join(lines) + "\n").encode()
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


def _post(client, pid: int, name: str, data: bytes):  # type: ignore[no-untyped-def]
    files = [("files", (name, data, "application/octet-stream"))]
    return client.post(f"/api/v1/projects/{pid}/uploads", files=files)


WHERE = {
    "json": "records 1 and 2, both on line 1",
    "json-indented": "lines 2 and 7",
    "jsonl": "lines 1 and 2",
    "csv": "lines 2 and 3",
    "parquet": "lines 1 and 2",
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_a_repeated_id_refuses_the_file_in_every_format_and_layout(  # type: ignore[no-untyped-def]
    client, session, layout: str
) -> None:
    """Two rows with id 7: refused with both places named, whether their texts are new
    (was a 500 from the unique response constraint) or already in the project (was stored
    as two responses)."""
    make = LAYOUTS[layout]
    pid = _project(client)
    known = [make("Seven?", "x"), make("Eight?", "y")]
    assert _post(client, pid, "known.jsonl", _file("jsonl", known)).status_code == 201
    for texts in (("Seven?", "Eight?"), ("New one?", "New two?")):
        rows = [{"id": "7", **make(texts[0], "a")}, {"id": "7", **make(texts[1], "b")}]
        for fmt in ["json", "jsonl", "parquet"] + (["csv"] if layout in FLAT else []):
            r = _post(client, pid, f"dup.{fmt}", _file(fmt, rows))
            assert r.status_code == 422, (fmt, texts, r.text)
            body = r.json()
            assert body["detail"] == (
                f"dup.{fmt}, line {body['line']}, field 'id': duplicate id '7' ({WHERE[fmt]})"
            )
            assert (body["filename"], body["field"]) == (f"dup.{fmt}", "id")
    assert session.scalar(select(func.count(Strategy.id))) == 1
    assert session.scalar(select(func.count(Response.id))) == 2


def test_a_repeated_id_in_an_indented_json_array_names_both_lines(client) -> None:  # type: ignore[no-untyped-def]
    rows = [
        {"id": "a", "question": "x", "answer": "1"},
        {"id": "a", "question": "y", "answer": "2"},
    ]
    r = _post(client, _project(client), "a.json", _file("json-indented", rows))
    assert r.status_code == 422 and r.json()["detail"].endswith(f"({WHERE['json-indented']})")


def test_an_id_leading_back_to_a_question_a_row_matched_by_text_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    """Line 1 (no id) matches the question with id 7 by its text; line 2 names id 7: one
    strategy would answer one question twice (was a 500)."""
    pid = _project(client)
    assert (
        _upload(client, pid, "a.jsonl", [{"id": "7", "question": "a", "answer": "1"}]).status_code
        == 201
    )
    rows = [{"question": "a", "answer": "1"}, {"id": "7", "question": "b", "answer": "2"}]
    r = _upload(client, pid, "b.jsonl", rows)
    assert r.status_code == 422, r.text
    assert r.json()["detail"] == (
        "b.jsonl, line 2, field 'id': id '7' names the question that "
        "line 1 already answers (matched by its text); give that row "
        "its id or remove one of the rows"
    )


def test_ground_truth_in_another_prompt_format_is_matched(client) -> None:
    pid = _project(client)
    q = "Where would you buy fresh bread and rolls?\n(A) bakery\n(B) garage\n(C) library"
    styled = [{"question": f"Answer the multiple-choice question.\n{q}", "answer": "A"}]
    assert _upload(client, pid, "s.jsonl", styled).status_code == 201
    gt_q = "Where would you buy fresh bread and rolls? A. bakery B. garage C. library"
    gt = _upload(client, pid, "gt.jsonl", [{"question": gt_q, "answer": "A", "gold_label": "A"}])
    s = gt.json()["strategies"][0]
    assert s["n_new_questions"] == 0 and s["matched_by"] == {"contained": 1}
