"""Odd values get the same clear answer on SQLite and Postgres (issue 11): a NUL character
(which Postgres cannot store), ids over 200 characters, names the OS cannot take as a path,
ids of the wrong type or out of range in bodies and queries."""

from __future__ import annotations

import json

import pytest

NUL = "\x00"


def _project(client, name: str = "p") -> int:  # type: ignore[no-untyped-def]
    r = client.post("/api/v1/projects", json={"name": name})
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _upload(client, pid: int, filename: str, body: bytes, **data):  # type: ignore[no-untyped-def]
    files = [("files", (filename, body, "application/octet-stream"))]
    return client.post(f"/api/v1/projects/{pid}/uploads", files=files, data=data)


def _jsonl(rows: list[dict[str, str]]) -> bytes:
    return "\n".join(json.dumps(r) for r in rows).encode()


def _rows(n: int = 3) -> list[dict[str, str]]:
    return [
        {"id": f"q{i}", "question": f"What is {i}+{i}?", "answer": str(2 * i)} for i in range(n)
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("question", f"What{NUL}?"),
        ("answer", f"4{NUL}"),
        ("id", f"q{NUL}"),
        ("gold_label", f"4{NUL}"),
    ],
)
def test_nul_in_an_uploaded_field_names_file_line_field(client, field: str, value: str) -> None:
    pid = _project(client)
    rows = _rows()
    rows[1] = {**rows[1], field: value}
    r = _upload(client, pid, "s.jsonl", _jsonl(rows))
    assert r.status_code == 422, r.text
    body = r.json()
    assert (body["filename"], body["line"], body["field"]) == ("s.jsonl", 2, field)
    assert "NUL" in body["detail"]
    assert client.get(f"/api/v1/projects/{pid}").json()["n_questions"] == 0


def test_nul_in_a_chat_message_and_in_csv(client) -> None:
    pid = _project(client)
    chat = [
        {
            "messages": [
                {"role": "user", "content": f"hi{NUL}"},
                {"role": "assistant", "content": "hello"},
            ]
        }
    ]
    r = _upload(client, pid, "chat.jsonl", _jsonl(chat))
    assert r.status_code == 422 and r.json()["line"] == 1 and "NUL" in r.json()["detail"], r.text
    csv = f"prompt,response\nfine,ok\nbad{NUL},ok\n".encode()
    r = _upload(client, pid, "s.csv", csv)
    assert r.status_code == 422, r.text
    assert (r.json()["line"], r.json()["field"]) == (3, "prompt")


def test_an_id_over_200_characters_is_refused_on_both_databases(client) -> None:
    pid = _project(client)
    rows = _rows()
    rows[2]["id"] = "x" * 201
    r = _upload(client, pid, "s.jsonl", _jsonl(rows))
    assert r.status_code == 422, r.text
    assert (r.json()["line"], r.json()["field"]) == (3, "id")
    assert "200 characters" in r.json()["detail"]
    rows[2]["id"] = "x" * 200  # the longest that fits
    assert _upload(client, pid, "s.jsonl", _jsonl(rows)).status_code == 201


def test_file_and_strategy_names(client) -> None:
    pid = _project(client)
    r = _upload(client, pid, "s.jsonl", _jsonl(_rows()), strategy=f"a{NUL}b")
    assert r.status_code == 422 and "NUL" in r.json()["detail"], r.text
    r = _upload(client, pid, "y" * 600 + ".jsonl", _jsonl(_rows()), strategy="fine")
    assert r.status_code == 422 and "file name" in r.json()["detail"], r.text


def test_nul_in_names_labels_and_queries(client) -> None:
    r = client.post("/api/v1/projects", json={"name": f"a{NUL}b"})
    assert r.status_code == 422 and "NUL" in r.text, r.text
    r = client.post("/api/v1/projects", json={"name": "ok", "description": f"d{NUL}"})
    assert r.status_code == 422 and "description" in r.text, r.text
    pid = _project(client)
    r = client.patch(f"/api/v1/projects/{pid}", json={"name": f"x{NUL}"})
    assert r.status_code == 422, r.text
    sid = _upload(client, pid, "s.jsonl", _jsonl(_rows())).json()["strategies"][0]["strategy_id"]
    r = client.patch(f"/api/v1/projects/{pid}/strategies/{sid}", json={"name": f"x{NUL}"})
    assert r.status_code == 422, r.text
    r = client.get(f"/api/v1/projects/{pid}/questions", params={"q": f"What{NUL}"})
    assert r.status_code == 422 and "NUL" in r.text, r.text
    page = client.get(f"/projects/{pid}/questions", params={"q": f"What{NUL}"})
    assert page.status_code == 422 and "NUL" in page.text
    assert client.get(f"/api/v1/projects/{pid}").json()["project"]["name"] == "p"


def test_found_by_schemathesis(client) -> None:
    pid = _project(client)
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"model": "0" * 400})
    assert r.status_code == 422, r.text  # was 500: "File name too long"
    r = client.post(f"/api/v1/projects/{pid}/scans", json={"model": f"./a{NUL}"})
    assert r.status_code == 422, r.text
    r = client.post(
        f"/api/v1/projects/{pid}/judgements/llm", json={"model": "org/m", "strategy_ids": [True]}
    )
    assert r.status_code == 422, r.text
    r = client.post(
        f"/api/v1/projects/{pid}/judgements/llm", json={"model": "org/m", "strategy_ids": [2**40]}
    )
    assert r.status_code == 422, r.text
    assert client.get(f"/api/v1/projects/{pid}/compare?scans=1,²").status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/compare?scans=1,{2**40}").status_code == 422
    assert client.get(f"/projects/{pid}/share?scan={2**40}").status_code == 422
    assert client.get(f"/api/v1/projects/{pid}/questions?page={2**62}").status_code == 422
