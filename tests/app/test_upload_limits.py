"""Hostile uploads are refused early with the usual message (issue 11): deep nesting, too
many rows, a small Parquet file that decodes to far more, a body over the request limit.

Bounded: nothing here allocates more than a few MB (the Parquet bomb is one dictionary
entry repeated, which the old code would have expanded to 100 MB)."""

from __future__ import annotations

import asyncio
import io
import json
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from app.config import get_settings
from app.ingest.formats import DecodeLimits, decode_rows
from app.ingest.records import UploadError

DEEP = 100_000


def _project(client) -> int:  # type: ignore[no-untyped-def]
    return client.post("/api/v1/projects", json={"name": "p"}).json()["id"]


def _upload(client, pid: int, filename: str, body: bytes):  # type: ignore[no-untyped-def]
    files = [("files", (filename, body, "application/octet-stream"))]
    return client.post(f"/api/v1/projects/{pid}/uploads", files=files, data={"strategy": "s"})


def _limit(monkeypatch: pytest.MonkeyPatch, **env: object) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key.upper(), str(value))
    get_settings.cache_clear()


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("fmt", ["jsonl", "json", "wrapped", "bare"])
def test_deeply_nested_json_is_refused_with_line_and_field(client, fmt: str) -> None:
    pid = _project(client)
    good = '{"prompt": "q0", "response": "a0"}'
    deep = f'{{"prompt": "q1", "response": "a1", "meta": {_nested(DEEP)}}}'
    body = {
        "jsonl": f"{good}\n{deep}\n",
        "json": f"[\n{good},\n{deep}\n]",
        "wrapped": f'{{"data": [\n{good},\n{deep}\n]}}',
        "bare": _nested(DEEP),
    }[fmt]
    r = _upload(client, pid, f"deep.{'jsonl' if fmt == 'jsonl' else 'json'}", body.encode())
    assert r.status_code == 422, r.text[:300]
    assert "nested deeper" in r.json()["detail"]
    if fmt != "bare":  # the deep record's line: 2 in the JSONL, 3 in the arrays
        assert r.json()["line"] == (2 if fmt == "jsonl" else 3)
        assert r.json()["field"] in ("meta", None)
    assert client.get(f"/api/v1/projects/{pid}").json()["strategies"] == []


def test_nesting_limit_names_the_field_and_allows_chat_records() -> None:
    limits = DecodeLimits(depth=5)
    chat = {"messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]}
    decode_rows("ok.jsonl", json.dumps(chat).encode(), limits)  # 5 levels: accepted
    deeper = {"prompt": "q", "extra": [[[[[1]]]]]}
    with pytest.raises(UploadError) as err:
        decode_rows("d.jsonl", json.dumps(deeper).encode(), limits)
    assert (err.value.line, err.value.field) == (1, "extra")


def _rows_file(fmt: str, n: int) -> bytes:
    rows = [{"prompt": f"q{i}", "response": f"a{i}"} for i in range(n)]
    if fmt == "jsonl":
        return "\n".join(json.dumps(r) for r in rows).encode()
    if fmt == "json":
        return json.dumps(rows, indent=0).encode()
    if fmt == "csv":
        return ("prompt,response\n" + "\n".join(f"q{i},a{i}" for i in range(n))).encode()
    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pylist(rows), buf)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["jsonl", "csv", "json", "parquet"])
def test_rows_over_the_limit(client, monkeypatch: pytest.MonkeyPatch, fmt: str) -> None:
    _limit(monkeypatch, max_upload_rows=100)
    pid = _project(client)
    r = _upload(client, pid, f"many.{fmt}", _rows_file(fmt, 101))
    assert r.status_code == 422, r.text
    assert "at most 100" in r.json()["detail"]
    assert _upload(client, pid, f"ok.{fmt}", _rows_file(fmt, 100)).status_code == 201


def _dictionary_bomb(value_bytes: int, n_rows: int) -> bytes:
    """One long text repeated: a small file whose rows decode to value_bytes * n_rows."""
    dictionary = pa.array(["x" * value_bytes])
    indices = pa.array(np.zeros(n_rows, dtype=np.int32))
    response = pa.DictionaryArray.from_arrays(indices, dictionary)
    prompts = pa.array([f"q{i}" for i in range(n_rows)])
    buf = io.BytesIO()
    pq.write_table(pa.table({"prompt": prompts, "response": response}), buf, compression="zstd")
    return buf.getvalue()


def test_parquet_that_decodes_to_far_more_is_refused_before_its_rows(
    client, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, max_upload_decoded_mb=10)
    pid = _project(client)
    bomb = _dictionary_bomb(200_000, 500)  # 100 MB of text in a file of a few KB
    assert len(bomb) < 50_000
    started = time.perf_counter()
    before = pa.total_allocated_bytes()
    r = _upload(client, pid, "bomb.parquet", bomb)
    assert r.status_code == 422, r.text
    body = r.json()
    assert "decodes to more than" in body["detail"] and body["field"] == "response"
    assert time.perf_counter() - started < 5
    assert pa.total_allocated_bytes() - before < 20 * 1024 * 1024
    assert client.get(f"/api/v1/projects/{pid}").json()["strategies"] == []


def test_parquet_metadata_declaring_too_much_is_refused() -> None:
    table = pa.table({"prompt": ["q"] * 4, "response": ["y" * 1_000_000] * 4})
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", use_dictionary=False)
    with pytest.raises(UploadError) as err:
        decode_rows("big.parquet", buf.getvalue(), DecodeLimits(decoded_bytes=1_000_000))
    assert "decodes to more than" in err.value.message and err.value.field is None


def test_a_small_parquet_file_within_the_limits_still_reads(client) -> None:
    pid = _project(client)
    r = _upload(client, pid, "ok.parquet", _dictionary_bomb(100, 50))
    assert r.status_code == 201, r.text
    assert r.json()["strategies"][0]["n_responses"] == 50


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_body_over_the_request_limit_is_refused_before_it_is_read(
    settings_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _limit(monkeypatch, max_request_mb=1)
    from app.main import create_app

    app = create_app()
    received, sent = [], []

    head = (
        b'--b\r\nContent-Disposition: form-data; name="files"; filename="a.jsonl"\r\n'
        b"Content-Type: application/octet-stream\r\n\r\n"
    )

    async def receive() -> dict[str, object]:
        received.append(1)
        body = head if len(received) == 1 else b"x" * 65536
        return {"type": "http.request", "body": body, "more_body": True}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    def scope(length: int | None) -> dict[str, object]:
        headers = [(b"host", b"127.0.0.1"), (b"content-type", b"multipart/form-data; boundary=b")]
        if length is not None:
            headers.append((b"content-length", str(length).encode()))
        return {
            "type": "http",
            "method": "POST",
            "path": "/api/v1/projects/1/uploads",
            "raw_path": b"/api/v1/projects/1/uploads",
            "query_string": b"",
            "headers": headers,
            "scheme": "http",
            "server": ("127.0.0.1", 80),
            "client": ("127.0.0.1", 5),
            "http_version": "1.1",
            "root_path": "",
        }

    asyncio.run(app(scope(10 * 1024**3), receive, send))  # declares 10 GB
    assert sent[0]["status"] == 413 and len(received) == 0
    assert (
        "over the limit of 1.0 MB (1,048,576 bytes) (MAX_REQUEST_MB)"
        in json.loads(sent[1]["body"])["detail"]
    )
    received.clear(), sent.clear()
    asyncio.run(app(scope(None), receive, send))  # no length: counted while it streams
    assert sent[0]["status"] == 413 and len(received) <= 1024 * 1024 // 65536 + 2
