"""Entry points: bytes or a path in, a fully validated ParsedFile out (all or nothing)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.ingest.code_tests import row_tests
from app.ingest.formats import NO_LIMITS, DecodeLimits, Row, decode_rows
from app.ingest.golds import repaired_gold
from app.ingest.layouts import CHAT_LAYOUTS, resolve_mapping, split_chat
from app.ingest.records import FieldMapping, ParsedFile, Record, UploadError, refuse_nul

MAX_LISTED_LINES = 10
MAX_ID_CHARS = 200  # Question.external_id


def read_file(
    path: Path,
    *,
    mapping: FieldMapping | None = None,
    max_bytes: int | None = None,
    limits: DecodeLimits = NO_LIMITS,
) -> ParsedFile:
    """Read and validate a file from disk (the size limit is checked before reading)."""
    path = Path(path)
    check_size(path.name, path.stat().st_size, max_bytes)
    return parse_bytes(
        path.name, path.read_bytes(), mapping=mapping, max_bytes=max_bytes, limits=limits
    )


def parse_bytes(
    filename: str,
    data: bytes,
    *,
    mapping: FieldMapping | None = None,
    max_bytes: int | None = None,
    limits: DecodeLimits = NO_LIMITS,
) -> ParsedFile:
    """Decode, map and validate every row; raise UploadError on the first problem."""
    check_size(filename, len(data), max_bytes)
    fmt, rows = decode_rows(filename, data, limits)
    mapping = resolve_mapping(filename, rows, mapping)
    records, notes = build_records(filename, rows, mapping)
    check_duplicates(filename, records, mapping)
    return ParsedFile(filename, fmt, mapping, records, notes.warnings())


def check_size(filename: str, size: int, max_bytes: int | None) -> None:
    if max_bytes is not None and size > max_bytes:
        message = (
            f"the file is {human_size(size)}, over the upload limit of {human_size(max_bytes)}"
        )
        raise UploadError(filename, message)


@dataclass
class Notes:
    """Things worth telling the user that do not stop the upload."""

    empty_responses: list[int] = field(default_factory=list)
    repaired_golds: list[int] = field(default_factory=list)
    dropped_system: int = 0
    with_history: int = 0

    def warnings(self) -> list[str]:
        out = []
        if self.empty_responses:
            lines = _lines(self.empty_responses)
            out.append(
                f"{len(self.empty_responses)} record(s) have an empty response ({lines}); "
                "they will be flagged when scored"
            )
        if self.repaired_golds:
            lines = _lines(self.repaired_golds)
            out.append(
                f"{len(self.repaired_golds)} gold answer(s) were cut at a thousands comma "
                f"({lines}); the full number was taken from the row's final-answer line"
            )
        if self.dropped_system:
            out.append(f"system turns in {self.dropped_system} conversation(s) were left out")
        if self.with_history:
            out.append(
                f"{self.with_history} conversation(s) have earlier turns; "
                "they were kept as context in the question"
            )
        return out


def build_records(
    filename: str, rows: list[Row], mapping: FieldMapping
) -> tuple[list[Record], Notes]:
    notes = Notes()
    records = [_record(filename, line, row, mapping, notes) for line, row in rows]
    return records, notes


def check_duplicates(filename: str, records: list[Record], mapping: FieldMapping) -> None:
    """Within one strategy, no explicit id twice.

    A repeated question text is not an error: real data sets repeat questions, and the
    repeats are paired by ``app.ingest.matching.REPEAT_RULE``. Only a repeated id is
    really ambiguous. Records are told apart by their position, not their line: the
    elements of a JSON array written on one line all start on line 1.
    """
    seen: dict[tuple[str | None, str], int] = {}
    for number, record in enumerate(records):
        if not record.source_id:
            continue
        first = seen.setdefault((record.strategy, record.source_id), number)
        if first == number:
            continue
        where = f" in strategy '{record.strategy}'" if record.strategy is not None else ""
        both = _both_places(records[first].line, record.line, first + 1, number + 1)
        message = f"duplicate id '{record.source_id}'{where} ({both})"
        raise UploadError(filename, message, line=record.line, field=mapping.id)


def _both_places(first_line: int, line: int, first_record: int, record: int) -> str:
    """Where the two records are: their lines, or their record numbers when they share one."""
    if first_line != line:
        return f"lines {first_line} and {line}"
    return f"records {first_record} and {record}, both on line {line}"


# --- one row ---------------------------------------------------------------------------


def _record(
    filename: str, line: int, row: dict[str, Any], mapping: FieldMapping, notes: Notes
) -> Record:
    if mapping.layout in CHAT_LAYOUTS:
        question, response = _chat_pair(filename, line, row, mapping, notes)
    else:
        question = _question(filename, line, row, mapping)
        response = _response(filename, line, row, mapping)
    if not response.strip():
        notes.empty_responses.append(line)
    gold = _optional(filename, line, row, mapping.gold)
    if (full := repaired_gold(gold, response)) is not None:
        gold = full
        notes.repaired_golds.append(line)
    tests, setup = row_tests(filename, line, row, mapping)
    return Record(
        question=question,
        response=response,
        line=line,
        source_id=_source_id(filename, line, row, mapping.id),
        gold=gold,
        strategy=_strategy(filename, line, row, mapping.strategy),
        correct=_verdict(filename, line, row, mapping.correct),
        category=_optional(filename, line, row, mapping.category),
        tests=tests,
        tests_setup=setup,
    )


def _chat_pair(
    filename: str, line: int, row: dict[str, Any], mapping: FieldMapping, notes: Notes
) -> tuple[str, str]:
    name = mapping.question or ""
    example = split_chat(filename, line, name, row.get(name))
    if not example.question.strip():
        raise UploadError(filename, "the last user turn is empty", line=line, field=name)
    notes.dropped_system += example.dropped_system
    notes.with_history += example.history_turns > 0
    return example.question, example.response


def _question(filename: str, line: int, row: dict[str, Any], mapping: FieldMapping) -> str:
    name = mapping.question or ""
    question = _text(filename, line, row, name)
    if question is None:
        raise UploadError(filename, f"the question {_absent(row, name)}", line=line, field=name)
    if not question.strip():
        raise UploadError(filename, "the question is empty", line=line, field=name)
    extra = _text(filename, line, row, mapping.input) if mapping.input else None
    if extra and extra.strip():
        return f"{question.rstrip()}\n\n{extra}"
    return question


def _response(filename: str, line: int, row: dict[str, Any], mapping: FieldMapping) -> str:
    name = mapping.response or ""
    response = _text(filename, line, row, name)
    if response is None:
        message = f"the response {_absent(row, name)} (an empty text is allowed, no value is not)"
        raise UploadError(filename, message, line=line, field=name)
    return response


def _optional(filename: str, line: int, row: dict[str, Any], name: str | None) -> str | None:
    """An id or gold value: text or a number (kept as written, 72.0 -> "72.0")."""
    if name is None:
        return None
    value = _text(filename, line, row, name, numbers=True)
    if value is None:
        return None
    return value.strip() or None


def _source_id(filename: str, line: int, row: dict[str, Any], name: str | None) -> str | None:
    value = _optional(filename, line, row, name)
    if value is not None and len(value) > MAX_ID_CHARS:
        message = f"the id is over {MAX_ID_CHARS} characters ({len(value)})"
        raise UploadError(filename, message, line=line, field=name)
    return value


def _strategy(filename: str, line: int, row: dict[str, Any], name: str | None) -> str | None:
    if name is None:
        return None
    value = _optional(filename, line, row, name)
    if value is None:
        empty = isinstance(row.get(name), str)
        message = f"the strategy name {'is empty' if empty else _absent(row, name)}"
        raise UploadError(filename, message, line=line, field=name)
    return value


TRUE_WORDS = {"true", "yes", "1", "1.0", "correct"}
FALSE_WORDS = {"false", "no", "0", "0.0", "incorrect", "wrong"}


def _verdict(filename: str, line: int, row: dict[str, Any], name: str | None) -> bool | None:
    """The file's own correctness verdict: true/false, 1/0 or yes/no; null means unknown."""
    if name is None:
        return None
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in TRUE_WORDS or word in FALSE_WORDS:
        return word in TRUE_WORDS
    if not word:
        return None
    message = f"expected true or false, got {value!r}"
    raise UploadError(filename, message, line=line, field=name)


def _text(
    filename: str, line: int, row: dict[str, Any], name: str, *, numbers: bool = False
) -> str | None:
    """The field's text; None when absent or null; numbers only where `numbers`."""
    value = row.get(name)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, str):
        return refuse_nul(filename, value, line=line, field=name)
    if numbers and isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    message = f"expected text, got {_kind(value)}"
    raise UploadError(filename, message, line=line, field=name)


def _absent(row: dict[str, Any], name: str) -> str:
    """Why a field has no value: "is missing" (no such field) or "is null" (null/NaN/empty cell)."""
    return "is null" if name in row else "is missing"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _lines(lines: list[int]) -> str:
    shown = ", ".join(str(n) for n in lines[:MAX_LISTED_LINES])
    more = len(lines) - MAX_LISTED_LINES
    label = "line" if len(lines) == 1 else "lines"
    return f"{label} {shown}" + (f" and {more} more" if more > 0 else "")


def human_size(n: int) -> str:
    if n < 1024 * 1024:
        return f"{n:,} bytes"
    return f"{n / (1024 * 1024):.1f} MB ({n:,} bytes)"
