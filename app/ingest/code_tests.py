"""A code task's tests, read from their own field of a row (MBPP's ``test_list``).

Code tasks often keep their tests beside the question, not in the gold (which then holds
reference code). The field's value may be:

- a list of strings (JSON, JSONL, Parquet);
- the text of a Python list literal, as MBPP writes it with single quotes
  (``"['assert f(1) == 2', 'assert f(0) == 0']"``), or of a JSON list;
- a plain string of test code: ``assert`` lines (one test each), or a script with asserts
  (one test), such as HumanEval's ``def check(candidate): ...``, which is then called on
  the row's ``entry_point``.

Nothing here runs the value: a literal is parsed (``ast.parse``) and read with
``ast.literal_eval`` after a check that it holds only constants and containers; anything
else (a call such as ``__import__("os").system(...)``, a name, an attribute) is refused with
an error naming the file, line and field. Test code is only parsed, to report a syntax error
at upload; it runs later, in the judging sandbox (``workers.judging.code``).
"""

from __future__ import annotations

import ast
import math
from typing import Any

from app.ingest.records import FieldMapping, UploadError, refuse_nul

TESTS_FIELDS = ("test_list", "tests", "test", "test_cases", "assertions")
SETUP_FIELDS = ("test_setup_code", "test_setup", "setup_code")
ENTRY_POINT_FIELD = "entry_point"  # HumanEval: the function a check(candidate) test receives
NO_TESTS = ""  # an explicit mapping's way of saying "this file's tests field is not tests"
LITERAL_NODES = (ast.Expression, ast.Constant, ast.List, ast.Tuple, ast.Dict, ast.Set, ast.Load)
NEVER_RUN = "refused: the tests field is read as data and never run"


def row_tests(
    filename: str, line: int, row: dict[str, Any], mapping: FieldMapping
) -> tuple[tuple[str, ...] | None, str | None]:
    """The row's tests (None: the row has none) and its setup code."""
    if not mapping.tests:
        return None, None
    tests = read_tests(filename, line, mapping.tests, row.get(mapping.tests))
    if tests is None:
        return None, None
    tests = _with_entry_point(filename, line, mapping.tests, tests, row.get(ENTRY_POINT_FIELD))
    setup = _setup(filename, line, row, mapping.tests_setup)
    return tests, setup


def read_tests(filename: str, line: int, field: str, value: Any) -> tuple[str, ...] | None:
    """The tests a field's value holds; None when it is empty; UploadError when it is not
    tests (a malformed or unsafe literal, a value of another kind, code that does not parse)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, list | tuple):
        return _test_items(filename, line, field, list(value))
    if not isinstance(value, str):
        message = f"expected a list of tests or their text, got {type(value).__name__}"
        raise UploadError(filename, message, line=line, field=field)
    text = refuse_nul(filename, value, line=line, field=field).strip()
    if not text:
        return None
    if text.startswith(("[", "(", "{")):
        return _test_items(filename, line, field, list(safe_literal(filename, line, field, text)))
    return _test_script(filename, line, field, text)


def safe_literal(filename: str, line: int, field: str, text: str) -> list[Any] | tuple[Any, ...]:
    """A list or tuple written as a Python (or JSON) literal, read without running it."""
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        raise UploadError(filename, _not_a_list(text, exc), line=line, field=field) from None
    refused = next((n for n in ast.walk(tree) if not isinstance(n, LITERAL_NODES)), None)
    if refused is not None:
        message = f"the list literal {_describe(refused)}; {NEVER_RUN}"
        raise UploadError(filename, message, line=line, field=field)
    value = ast.literal_eval(tree)
    if not isinstance(value, list | tuple):
        message = f"expected a list of tests, got {type(value).__name__}"
        raise UploadError(filename, message, line=line, field=field)
    return value


def _not_a_list(text: str, exc: BaseException) -> str:
    if isinstance(exc, SyntaxError) and exc.msg:
        where = f" (column {exc.offset})" if exc.offset else ""
        return f"the list of tests is not a valid Python list literal: {exc.msg}{where}"
    return "the list of tests is not a valid Python list literal"


def _describe(node: ast.AST) -> str:
    """What a non-literal part of the value does, in words."""
    where = f" (column {node.col_offset + 1})" if hasattr(node, "col_offset") else ""
    if isinstance(node, ast.Call):
        called = ast.unparse(node.func)[:60]
        return f"calls a function ({called}(...)){where}"
    if isinstance(node, ast.Name):
        return f"names a variable ({node.id[:60]}){where}"
    if isinstance(node, ast.Attribute):
        return f"reads an attribute ({ast.unparse(node)[:60]}){where}"
    return f"holds an expression ({type(node).__name__}){where}, not only texts"


def _test_items(filename: str, line: int, field: str, items: list[Any]) -> tuple[str, ...] | None:
    tests = []
    for i, item in enumerate(items):
        where = f"{field}[{i}]"
        if not isinstance(item, str):
            message = f"expected the text of a test, got {type(item).__name__}"
            raise UploadError(filename, message, line=line, field=where)
        text = refuse_nul(filename, item, line=line, field=where).strip()
        if text:
            _check_parses(filename, line, where, text)
            tests.append(text)
    return tuple(tests) or None


def _test_script(filename: str, line: int, field: str, text: str) -> tuple[str, ...]:
    """``assert`` statements each as a test; any other script with asserts as one test."""
    tree = _check_parses(filename, line, field, text)
    if not any(isinstance(node, ast.Assert) for node in ast.walk(tree)):
        message = "holds no assert statement; expected test assertions"
        raise UploadError(filename, message, line=line, field=field)
    if all(isinstance(node, ast.Assert) for node in tree.body):
        return tuple(ast.get_source_segment(text, node) or "" for node in tree.body)
    return (text,)


def _check_parses(filename: str, line: int, field: str, code: str) -> ast.Module:
    """The code's syntax tree (parsed only, never run), or an UploadError saying where."""
    try:
        return ast.parse(code)
    except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
        detail = getattr(exc, "msg", "") or "it cannot be parsed"
        at = f" (line {exc.lineno} of the test)" if getattr(exc, "lineno", None) else ""
        message = f"the test is not valid Python: {detail}{at}"
        raise UploadError(filename, message, line=line, field=field) from None


def _with_entry_point(
    filename: str, line: int, field: str, tests: tuple[str, ...], entry_point: Any
) -> tuple[str, ...]:
    """HumanEval's tests define ``check(candidate)`` without calling it: call it on the
    row's ``entry_point``, or refuse (a test that never runs would pass every answer)."""
    if len(tests) != 1 or not _defines_uncalled_check(tests[0]):
        return tests
    if isinstance(entry_point, str) and entry_point.strip().isidentifier():
        return (f"{tests[0]}\n\ncheck({entry_point.strip()})",)
    message = (
        "the tests define check() but never call it; add an 'entry_point' field naming "
        "the function to test"
    )
    raise UploadError(filename, message, line=line, field=field)


def _defines_uncalled_check(code: str) -> bool:
    tree = ast.parse(code)
    defines = any(isinstance(n, ast.FunctionDef) and n.name == "check" for n in tree.body)
    calls = any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "check"
        for n in ast.walk(tree)
    )
    return defines and not calls


def _setup(filename: str, line: int, row: dict[str, Any], name: str | None) -> str | None:
    """The row's test setup code (MBPP ``test_setup_code``), checked to parse."""
    value = row.get(name) if name else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if not isinstance(value, str):
        message = f"expected the text of setup code, got {type(value).__name__}"
        raise UploadError(filename, message, line=line, field=name)
    code = refuse_nul(filename, value, line=line, field=name).strip()
    if not code:
        return None
    _check_parses(filename, line, name or "", code)
    return code
