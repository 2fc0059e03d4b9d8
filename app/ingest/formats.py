"""Decode an uploaded file's bytes into numbered rows.

Formats: JSON array (or an object holding the array under a key like "data"), JSONL,
CSV/TSV and Parquet. Each row comes back as ``(number, dict)`` where the number is what a
user finds in the file: the line where a JSON element starts, the JSONL line, the
spreadsheet row (the CSV header is row 1) or the 1-based Parquet row.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from pathlib import PurePath
from typing import Any

from app.ingest.limits import NO_LIMITS, DecodeLimits
from app.ingest.parquet import parquet_rows
from app.ingest.records import UploadError

Row = tuple[int, dict[str, Any]]

EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}
SUPPORTED = "JSON array (.json), JSONL (.jsonl, .ndjson), CSV (.csv) or Parquet (.parquet, .pq)"
WRAPPER_KEYS = ("data", "records", "rows", "examples", "items", "instances")
PARQUET_MAGIC = b"PAR1"
WRAPPER_START = re.compile(
    r'\{\s*"(?:' + "|".join(WRAPPER_KEYS) + r')"\s*:\s*\[', re.IGNORECASE
)  # a wrapper object's first member, when it is the records

_DECODER = json.JSONDecoder()
_WS = re.compile(r"[ \t\r\n]*")


def decode_rows(
    filename: str, data: bytes, limits: DecodeLimits = NO_LIMITS
) -> tuple[str, list[Row]]:
    """Return the detected format ("json", "jsonl", "csv", "parquet") and the file's rows."""
    if not data.strip():
        raise UploadError(filename, "the file is empty")
    fmt = EXTENSIONS.get(PurePath(filename).suffix.lower())
    if fmt == "parquet" or data.startswith(PARQUET_MAGIC):
        fmt, rows = "parquet", parquet_rows(filename, data, limits)
    else:
        text = _text_for(filename, data, fmt)
        if not text.strip():
            raise UploadError(filename, "the file is empty")
        fmt = _text_format(filename, text, fmt)
        rows = _TEXT_READERS[fmt](filename, text, limits)
    if not rows:
        raise UploadError(filename, "no records found in the file")
    return fmt, rows


def decode_text(filename: str, data: bytes) -> str:
    """UTF-8 (a leading BOM is accepted); otherwise name the line of the first bad byte."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise UploadError(filename, "the file is UTF-16 text; save it as UTF-8", line=1)
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start]
        message = f"the file is not valid UTF-8 text (byte 0x{bad:02x}); save it as UTF-8"
        raise UploadError(filename, message, line=line) from None


def _text_for(filename: str, data: bytes, fmt: str | None) -> str:
    """Decode text; for an unknown extension, undecodable bytes mean an unknown format."""
    try:
        return decode_text(filename, data)
    except UploadError:
        if fmt is None:
            raise _unknown_format(filename) from None
        raise


def _text_format(filename: str, text: str, fmt: str | None) -> str:
    """Trust .jsonl/.csv; a .json file holding one object per line is read as JSONL."""
    if fmt in ("jsonl", "csv"):
        return fmt
    sniffed = sniff_text_format(text)
    if fmt == "json":
        return "jsonl" if sniffed == "jsonl" else "json"
    if sniffed is None:
        raise _unknown_format(filename)
    return sniffed


def sniff_text_format(text: str) -> str | None:
    """Guess the format of decoded text from its first characters; None when unsure."""
    start = _skip(text, 0)
    if text.startswith("[", start):
        return "json"
    if text.startswith("{", start):
        try:
            _, end = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError as exc:  # broken past line 1: one multi-line document
            return "json" if exc.lineno > 1 else "jsonl"
        except RecursionError:  # nested past what Python decodes; the reader says where
            return "json" if "\n" in text[start:].strip() else "jsonl"
        return "json" if _skip(text, end) == len(text) else "jsonl"
    first_line = text[start:].split("\n", 1)[0]
    return "csv" if any(sep in first_line for sep in ",\t;") else None


def _unknown_format(filename: str) -> UploadError:
    return UploadError(filename, f"cannot tell the file's format; upload a {SUPPORTED} file")


# --- JSON array ------------------------------------------------------------------------


def json_rows(filename: str, text: str, limits: DecodeLimits = NO_LIMITS) -> list[Row]:
    """Rows of a JSON array of objects, or of an object wrapping one under e.g. "data"."""
    start = _skip(text, 0)
    try:
        if text.startswith("{", start):
            rows, end = _wrapped_rows(filename, text, start, limits)
        else:
            rows, end = _array_rows(filename, text, start, limits)
    except json.JSONDecodeError as exc:
        raise _json_error(filename, exc, exc.lineno) from None
    end = _skip(text, end)
    if end < len(text):
        message = "unexpected text after the end of the JSON data"
        raise UploadError(filename, message, line=_line_at(text, end))
    return rows


def _array_rows(
    filename: str, text: str, idx: int, limits: DecodeLimits = NO_LIMITS
) -> tuple[list[Row], int]:
    """Walk a JSON array with raw_decode, counting newlines to number each element."""
    if not text.startswith("[", idx):
        message = "expected a JSON array of objects (starting with '[')"
        raise UploadError(filename, message, line=_line_at(text, idx))
    rows: list[Row] = []
    line, counted = 1, 0
    idx = _skip(text, idx + 1)
    while not text.startswith("]", idx):
        if rows:
            if not text.startswith(",", idx):
                message = "expected ',' or ']' after an array element"
                raise UploadError(filename, message, line=_line_at(text, idx))
            idx = _skip(text, idx + 1)
        line, counted = line + text.count("\n", counted, idx), idx
        _check_count(filename, len(rows), line, limits)
        value, idx = _decode_at(filename, text, idx, line, limits)
        rows.append((line, _as_object(filename, value, line)))
        idx = _skip(text, idx)
    return rows, idx + 1


def _wrapped_rows(
    filename: str, text: str, idx: int, limits: DecodeLimits = NO_LIMITS
) -> tuple[list[Row], int]:
    """A top-level object: the array under a wrapper key, else the object is one record."""
    wrapper = DecodeLimits(depth=None if limits.depth is None else limits.depth + 2)
    try:
        value, end = _decode_at(filename, text, idx, _line_at(text, idx), wrapper)
    except UploadError:  # too deep somewhere: the records say where, when a key wraps them
        if (m := WRAPPER_START.match(text, idx)) is None:
            raise
        _array_rows(filename, text, m.end() - 1, limits)
        raise
    key = _wrapper_key(value)
    if key is None:
        check_depth(filename, _line_at(text, idx), value, limits)
        return [(_line_at(text, idx), value)], end
    rows, _ = _array_rows(filename, text, _member_start(text, idx, key), limits)
    return rows, end


def _wrapper_key(value: dict[str, Any]) -> str | None:
    keys = [k for k, v in value.items() if k.lower() in WRAPPER_KEYS and isinstance(v, list)]
    return keys[0] if len(keys) == 1 else None


def _member_start(text: str, idx: int, key: str) -> int:
    """Offset of `key`'s value in an object already known to be valid JSON."""
    idx = _skip(text, idx + 1)
    while True:
        name, idx = _DECODER.raw_decode(text, idx)
        idx = _skip(text, _skip(text, idx) + 1)  # past ':'
        if name == key:
            return idx
        _, idx = _DECODER.raw_decode(text, idx)
        idx = _skip(text, _skip(text, idx) + 1)  # past ','


# --- JSONL -----------------------------------------------------------------------------


def jsonl_rows(filename: str, text: str, limits: DecodeLimits = NO_LIMITS) -> list[Row]:
    """One JSON object per line; blank lines are skipped."""
    rows: list[Row] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        _check_count(filename, len(rows), number, limits)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise _json_error(filename, exc, number) from None
        except RecursionError:
            raise _too_deep(filename, number, None, limits) from None
        check_depth(filename, number, value, limits)
        rows.append((number, _as_object(filename, value, number)))
    return rows


# --- CSV -------------------------------------------------------------------------------


def csv_rows(filename: str, text: str, limits: DecodeLimits = NO_LIMITS) -> list[Row]:
    """Header row then one record per row, numbered as a spreadsheet shows them."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text), strict=True)
    rows: list[Row] = []
    number = 0  # the last row read; an error concerns the next one
    try:
        header = _header(filename, next(reader))
        number = 1
        for number, values in enumerate(reader, start=2):
            if any(v.strip() for v in values):
                _check_count(filename, len(rows), number, limits)
                rows.append((number, _csv_record(filename, number, header, values)))
    except csv.Error as exc:
        raise UploadError(filename, f"malformed CSV: {exc}", line=number + 1) from None
    return rows


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    return max(",\t;", key=first_line.count)


def _header(filename: str, names: list[str]) -> list[str]:
    header = [name.strip() for name in names]
    seen: set[str] = set()
    for name in header:
        if name and name in seen:
            message = f"column '{name}' appears twice in the header"
            raise UploadError(filename, message, line=1, field=name)
        seen.add(name)
    return header


def _csv_record(filename: str, number: int, header: list[str], values: list[str]) -> dict[str, Any]:
    if len(values) > len(header):
        message = f"the row has {len(values)} values but the header has {len(header)} columns"
        raise UploadError(filename, message, line=number)
    record: dict[str, Any] = dict.fromkeys(header)
    record.update(zip(header, values, strict=False))
    return record


# --- Parquet ---------------------------------------------------------------------------


# --- helpers ---------------------------------------------------------------------------


def _check_count(filename: str, n_before: int, line: int, limits: DecodeLimits) -> None:
    if limits.rows is not None and n_before >= limits.rows:
        message = f"more than {limits.rows:,} records; at most {limits.rows:,} are accepted"
        raise UploadError(filename, message + " (MAX_UPLOAD_ROWS)", line=line)


def _decode_at(
    filename: str, text: str, idx: int, line: int, limits: DecodeLimits
) -> tuple[Any, int]:
    """One JSON value from ``idx``; nesting past the limit (or past what Python can decode,
    which would be a RecursionError) is refused, naming the line and the field."""
    try:
        value, end = _DECODER.raw_decode(text, idx)
    except RecursionError:
        raise _too_deep(filename, line, None, limits) from None
    check_depth(filename, line, value, limits)
    return value, end


def check_depth(filename: str, line: int, record: Any, limits: DecodeLimits) -> None:
    """Refuse a record nested deeper than ``limits.depth`` (the record itself is level 1)."""
    if limits.depth is None or not isinstance(record, dict):
        return
    for name, value in record.items():
        if _deeper_than(value, limits.depth - 1):
            raise _too_deep(filename, line, name, limits)


def _deeper_than(value: Any, levels: int) -> bool:
    """Whether lists/objects nest more than ``levels`` deep (iterative: no recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > levels:
                return True
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep(filename: str, line: int, field: str | None, limits: DecodeLimits) -> UploadError:
    levels = f"{limits.depth} levels" if limits.depth is not None else "what can be read"
    message = f"lists and objects are nested deeper than {levels} (MAX_UPLOAD_DEPTH)"
    return UploadError(filename, message, line=line, field=field)


def _skip(text: str, idx: int) -> int:
    return _WS.match(text, idx).end()  # type: ignore[union-attr]


def _line_at(text: str, idx: int) -> int:
    return text.count("\n", 0, idx) + 1


def _as_object(filename: str, value: Any, line: int) -> dict[str, Any]:
    if not isinstance(value, dict):
        kind = type(value).__name__
        message = f"each record must be a JSON object with named fields, got {kind}"
        raise UploadError(filename, message, line=line)
    return value


def _json_error(filename: str, exc: json.JSONDecodeError, line: int) -> UploadError:
    return UploadError(filename, f"invalid JSON: {exc.msg} (column {exc.colno})", line=line)


_TEXT_READERS = {"json": json_rows, "jsonl": jsonl_rows, "csv": csv_rows}
