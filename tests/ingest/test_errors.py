"""Every way an upload is rejected, asserting on the text a user sees."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.ingest import UploadError, parse_bytes, read_file
from tests.ingest.helpers import jsonl, parse_rows, upload_error

ROW = {"question": "What is 2+2?", "answer": "4"}


def _numbered_rows(n: int) -> list[dict]:
    return [{"question": f"Question {i}?", "answer": f"Answer {i}"} for i in range(1, n + 1)]


def test_bad_json_line_in_jsonl() -> None:
    lines = [json.dumps(r) for r in _numbered_rows(1000)]
    lines[811] = '{"question": "Question 812?", "answer": "Answer 812"'  # line 812, no brace
    message = upload_error("big.jsonl", "\n".join(lines).encode())
    assert message.startswith("big.jsonl, line 812: invalid JSON: Expecting ',' delimiter")


def test_bad_json_in_array_names_the_line() -> None:
    data = b'[\n  {"question": "a", "answer": "b"},\n  {"question": "c" "answer": "d"}\n]'
    message = upload_error("set.json", data)
    assert message == "set.json, line 3: invalid JSON: Expecting ',' delimiter (column 20)"


def test_bad_json_deep_in_a_wrapper_object() -> None:
    data = b'{\n  "data": [\n    {"question": "a", "answer": "b"},\n    {"question": "c",}\n  ]\n}'
    message = upload_error("set.json", data)
    assert message.startswith("set.json, line 4: invalid JSON: Expecting property name")


def test_text_after_the_array() -> None:
    data = b'[\n  {"question": "a", "answer": "b"}\n]\n]\n'
    message = upload_error("set.json", data)
    assert message == "set.json, line 4: unexpected text after the end of the JSON data"


def test_jsonl_line_that_is_not_an_object() -> None:
    data = b'{"question": "a", "answer": "b"}\n["c", "d"]\n'
    message = upload_error("s.jsonl", data)
    assert (
        message == "s.jsonl, line 2: each record must be a JSON object with named fields, got list"
    )


def test_trailing_comma_in_array() -> None:
    data = b'[\n  {"question": "a", "answer": "b"},\n]'
    assert upload_error("set.json", data).startswith("set.json, line 3: invalid JSON")


def test_array_element_not_an_object() -> None:
    data = b'[\n  {"question": "a", "answer": "b"},\n  "oops"\n]'
    message = upload_error("set.json", data)
    assert (
        message == "set.json, line 3: each record must be a JSON object with named fields, got str"
    )


def test_missing_response_field_names_field_and_line() -> None:
    rows = [ROW, {"question": "Why?", "answer": "Because."}, {"question": "Where?"}]
    message = upload_error("s.jsonl", jsonl(*rows))
    assert message.startswith("s.jsonl, line 3, field 'answer': the response is missing")


def test_null_response_is_null_not_missing() -> None:
    message = upload_error("s.jsonl", jsonl({"question": "q", "answer": None}))
    assert message.startswith("s.jsonl, line 1, field 'answer': the response is null")


def test_null_question_is_null_not_missing() -> None:
    message = upload_error("s.jsonl", jsonl({"question": None, "answer": "4"}))
    assert message == "s.jsonl, line 1, field 'question': the question is null"


def test_empty_csv_cell_is_null() -> None:
    message = upload_error("s.csv", b"question,answer\n,4\n")
    assert "field 'question': the question is" in message


def test_empty_response_is_a_warning() -> None:
    parsed = parse_rows(ROW, {"question": "q2", "answer": ""}, {"question": "q3", "answer": " "})
    assert [r.response for r in parsed.records] == ["4", "", " "]
    assert parsed.warnings == [
        "2 record(s) have an empty response (lines 2, 3); they will be flagged when scored"
    ]


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ({"answer": "4"}, "field 'question': the question is missing"),
        ({"question": "  ", "answer": "4"}, "field 'question': the question is empty"),
        ({"question": 12, "answer": "4"}, "field 'question': expected text, got a number"),
        ({"question": "q", "answer": ["4"]}, "field 'answer': expected text, got a list"),
        ({**ROW, "gold_label": True}, "field 'gold_label': expected text, got true/false"),
    ],
)
def test_bad_values_name_line_and_field(row: dict, expected: str) -> None:
    message = upload_error("s.jsonl", jsonl({**ROW, "gold_label": "4"}, row))
    assert message == f"s.jsonl, line 2, {expected}"


def test_non_utf8_bytes_name_the_line() -> None:
    data = b"question,answer\nq1,a1\nq2,caf\xe9\n"
    message = upload_error("latin1.csv", data)
    assert message == (
        "latin1.csv, line 3: the file is not valid UTF-8 text (byte 0xe9); save it as UTF-8"
    )


def test_utf16_is_named() -> None:
    data = "question,answer\nq,a\n".encode("utf-16")
    assert upload_error("w.csv", data) == "w.csv, line 1: the file is UTF-16 text; save it as UTF-8"


@pytest.mark.parametrize(
    ("name", "data"),
    [("e.jsonl", b""), ("e.json", b"  \n\n"), ("e.csv", b"\xef\xbb\xbf"), ("e.txt", b"")],
)
def test_empty_file(name: str, data: bytes) -> None:
    assert upload_error(name, data) == f"{name}: the file is empty"


@pytest.mark.parametrize(
    ("name", "data"),
    [("e.json", b"[]"), ("e.json", b'{"data": []}'), ("e.csv", b"question,answer\n\n")],
)
def test_no_records(name: str, data: bytes) -> None:
    assert upload_error(name, data) == f"{name}: no records found in the file"


def test_records_without_fields() -> None:
    message = upload_error("e.jsonl", b"\n \n{}\n")
    assert message.startswith("e.jsonl: no known field layout (fields found: none)")


def test_duplicate_ids_name_both_lines() -> None:
    rows = [{**ROW, "id": 1}, {"question": "b", "answer": "c", "id": 2}, {**ROW, "id": 1}]
    message = upload_error("d.jsonl", jsonl(*rows))
    assert message == "d.jsonl, line 3, field 'id': duplicate id '1' (lines 1 and 3)"


def test_duplicate_ids_in_a_one_line_json_array_are_refused() -> None:
    """Every element of a one-line array starts on line 1: the records are told apart by
    their number (the line alone let the repeat through)."""
    rows = [{**ROW, "id": "7"}, {"question": "b", "answer": "c", "id": "7"}]
    message = upload_error("d.json", json.dumps(rows).encode())
    assert (
        message == "d.json, line 1, field 'id': duplicate id '7' (records 1 and 2, both on line 1)"
    )


def test_same_id_in_two_strategies_is_fine() -> None:
    rows = [{**ROW, "id": 1, "strategy": "a"}, {**ROW, "id": 1, "strategy": "b"}]
    assert len(parse_rows(*rows).records) == 2


def test_repeated_question_without_ids_is_accepted() -> None:
    rows = [
        ROW,
        {"question": "other", "answer": "x"},
        {"question": "what is  2+2? ", "answer": "y"},
    ]
    assert [r.line for r in parse_rows(*rows).records] == [1, 2, 3]


def test_duplicate_id_within_a_strategy_column() -> None:
    rows = [
        {**ROW, "id": "7", "strategy": "a"},
        {**ROW, "id": "7", "strategy": "b"},
        {**ROW, "id": "7", "strategy": "b"},
    ]
    message = upload_error("d.jsonl", jsonl(*rows))
    assert "duplicate id '7' in strategy 'b' (lines 2 and 3)" in message


def test_missing_strategy_value() -> None:
    rows = [{**ROW, "strategy": "a"}, {"question": "q", "answer": "a", "strategy": ""}]
    message = upload_error("s.jsonl", jsonl(*rows))
    assert message == "s.jsonl, line 2, field 'strategy': the strategy name is empty"


def test_over_the_size_limit(tmp_path: Path) -> None:
    data = jsonl(*_numbered_rows(50))
    message = upload_error("big.jsonl", data, max_bytes=1000)
    assert (
        message
        == f"big.jsonl: the file is {len(data):,} bytes, over the upload limit of 1,000 bytes"
    )
    path = tmp_path / "big.jsonl"
    path.write_bytes(data)
    with pytest.raises(UploadError, match=r"^big\.jsonl: the file is .* over the upload limit"):
        read_file(path, max_bytes=1000)
    assert len(read_file(path, max_bytes=len(data)).records) == 50


def test_size_limit_in_megabytes() -> None:
    data = b" " * (3 * 1024 * 1024)
    message = upload_error("big.json", data, max_bytes=2 * 1024 * 1024)
    assert message == (
        "big.json: the file is 3.0 MB (3,145,728 bytes), "
        "over the upload limit of 2.0 MB (2,097,152 bytes)"
    )


@pytest.mark.parametrize(
    ("name", "data"),
    [("notes.txt", b"just some words\n"), ("sheet.xlsx", b"PK\x03\x04\x14\x00\x06\x00\xa1\xff")],
)
def test_unknown_format(name: str, data: bytes) -> None:
    message = upload_error(name, data)
    assert message.startswith(f"{name}: cannot tell the file's format; upload a JSON array (.json)")


def test_broken_parquet() -> None:
    assert upload_error("x.parquet", b"not parquet").startswith(
        "x.parquet: not a readable Parquet file"
    )


def test_csv_row_with_too_many_values() -> None:
    data = b'question,answer\nq1,a1\n"q2\nstill q2",a2,extra\n'
    message = upload_error("x.csv", data)
    assert message == "x.csv, line 3: the row has 3 values but the header has 2 columns"


def test_csv_unterminated_quote() -> None:
    data = b'question,answer\nq1,a1\nq2,"never closed\n'
    assert upload_error("x.csv", data).startswith("x.csv, line 3: malformed CSV")


def test_csv_duplicate_header() -> None:
    data = b"question,answer,answer\nq,a,b\n"
    message = upload_error("x.csv", data)
    assert message == "x.csv, line 1, field 'answer': column 'answer' appears twice in the header"


def test_nothing_partial_is_returned() -> None:
    rows = [*_numbered_rows(99), {"question": "last"}]
    with pytest.raises(UploadError) as caught:
        parse_bytes("p.jsonl", jsonl(*rows))
    assert (caught.value.line, caught.value.field) == (100, "answer")
