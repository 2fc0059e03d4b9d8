"""A code task's tests in their own field (MBPP's ``test_list``): found by name, read as a
Python literal without running it, a bad value named by file, line and field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.ingest import FieldMapping, UploadError, parse_bytes, read_file
from app.ingest.code_tests import NO_TESTS, read_tests

DATA = Path(__file__).resolve().parents[1] / "data" / "mbpp_style.jsonl"
ROW = {
    "prompt": "Write f(x) returning x.",
    "response": "```python\ndef f(x):\n    return x\n```",
    "code": "def f(x):\n    return x",
    "test_list": "['assert f(1) == 1', 'assert f(2) == 2']",
}


def _parse(*rows: dict[str, Any], mapping: FieldMapping | None = None):  # type: ignore[no-untyped-def]
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    return parse_bytes("tasks.jsonl", data, mapping=mapping)


def _error(value: Any, line_of: int = 2) -> UploadError:
    rows = [dict(ROW, prompt=f"q{i}") for i in range(3)]
    rows[line_of - 1]["test_list"] = value
    with pytest.raises(UploadError) as caught:
        _parse(*rows)
    return caught.value


def test_the_mbpp_style_file_gives_every_question_its_tests() -> None:
    parsed = read_file(DATA)
    assert (parsed.mapping.tests, parsed.mapping.tests_setup) == ("test_list", "test_setup_code")
    assert parsed.mapping.gold is None  # `code` is reference code, not a gold answer
    assert all(r.tests for r in parsed.records) and len(parsed.records) == 16
    literal = parsed.records[0]  # a single-quoted Python list in a string
    assert literal.tests[0] == (
        "assert set(similar_elements((3, 4, 5, 6),(5, 7, 4, 10))) == set((4, 5))"
    )
    assert len(literal.tests) == 3 and literal.tests_setup is None
    assert parsed.records[2].tests[-1] == "assert is_not_prime(37) == False"  # a JSON list
    assert parsed.records[6].tests[0] == 'assert remove_Occ("hello","l") == "heo"'
    assert parsed.records[-1].tests_setup == "import math"


def test_a_malformed_literal_names_file_line_and_field() -> None:
    error = _error("['assert f(1) == 1', 'assert f(2) == 2'")
    assert (error.filename, error.line, error.field) == ("tasks.jsonl", 2, "test_list")
    assert "not a valid Python list literal" in str(error) and "was never closed" in str(error)
    assert str(error).startswith("tasks.jsonl, line 2, field 'test_list': ")


def test_a_malicious_literal_is_refused_and_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    call = f"__import__('pathlib').Path({str(marker)!r}).write_text('ran')"
    for value in (f"[{call}]", f"['assert f(1) == 1', {call}]", f"({call},)"):
        error = _error(value, line_of=3)
        assert (error.line, error.field) == (3, "test_list")
        assert "calls a function" in error.message and "never run" in error.message
    error = _error("[open('/etc/passwd').read()]")
    assert "calls a function (open('/etc/passwd').read(...))" in error.message
    assert "names a variable (os)" in _error("[os]").message
    assert "reads an attribute" in _error("[os.environ]").message
    assert not marker.exists()


def test_other_values_that_are_not_tests_are_refused_with_the_place() -> None:
    assert _error("[1, 2]").field == "test_list[0]"
    assert "got int" in _error("[1, 2]").message
    assert "expected a list of tests" in _error("{'a': 1}").message
    assert "holds no assert statement" in _error("print('hi')").message
    assert "got dict" in _error({"inputs": [1]}).message
    bad_code = _error("['assert f(1) == 1', 'assert f(2 == 2']")
    assert bad_code.field == "test_list[1]" and "not valid Python" in bad_code.message
    deep = _error("[" * 500 + "]" * 500)
    assert deep.field == "test_list" and "list literal" in deep.message


def test_plain_strings_of_asserts_and_real_lists() -> None:
    assert read_tests("f", 1, "tests", "assert f(1) == 1\nassert f(\n    2) == 2\n") == (
        "assert f(1) == 1",
        "assert f(\n    2) == 2",
    )
    script = "import math\nx = math.pi\nassert f(x) == x"
    assert read_tests("f", 1, "tests", script) == (script,)
    assert read_tests("f", 1, "tests", ["assert f(1) == 1", "  "]) == ("assert f(1) == 1",)
    assert read_tests("f", 1, "tests", '["assert f(1) == 1"]') == ("assert f(1) == 1",)
    assert read_tests("f", 1, "tests", "[]") is None
    assert read_tests("f", 1, "tests", "") is None and read_tests("f", 1, "tests", None) is None


def test_a_humaneval_check_is_called_on_the_entry_point() -> None:
    check = "def check(candidate):\n    assert candidate(1) == 1\n"
    row = dict(ROW, test=check, entry_point="f")
    del row["test_list"]
    (record,) = _parse(row).records
    assert record.tests == (check.strip() + "\n\ncheck(f)",)
    del row["entry_point"]
    with pytest.raises(UploadError, match="define check\\(\\) but never call it"):
        _parse(row)


def test_setup_code_is_checked_to_parse() -> None:
    row = dict(ROW, test_setup_code="import math\n")
    assert _parse(row).records[0].tests_setup == "import math"
    with pytest.raises(UploadError) as caught:
        _parse(dict(ROW, test_setup_code="import (math"))
    assert caught.value.field == "test_setup_code"


def test_a_mapping_can_name_the_tests_field_or_turn_it_off() -> None:
    row = dict(ROW, checks="['assert f(3) == 3']")
    custom = FieldMapping("custom", question="prompt", response="response", gold="code")
    assert _parse(row, mapping=custom).records[0].tests == ("assert f(1) == 1", "assert f(2) == 2")
    named = FieldMapping("custom", question="prompt", response="response", tests="checks")
    assert _parse(row, mapping=named).records[0].tests == ("assert f(3) == 3",)
    off = FieldMapping("custom", question="prompt", response="response", tests=NO_TESTS)
    assert _parse(dict(ROW, test_list="not tests"), mapping=off).records[0].tests is None
    auto_off = FieldMapping("auto", tests=NO_TESTS)
    assert _parse(dict(ROW, test_list="x"), mapping=auto_off).records[0].tests is None
    with pytest.raises(UploadError) as caught:
        _parse(row, mapping=FieldMapping("auto", tests="missing"))
    assert caught.value.field == "missing"


def test_files_without_a_tests_field_are_read_as_before() -> None:
    parsed = _parse({"prompt": "2+2?", "response": "4", "gold": "4"})
    assert parsed.mapping.tests is None and parsed.records[0].tests is None
