"""The one CSV writer of every export (scan report and values, study tables, validation
accuracy): cells that a spreadsheet would run as a formula are written inert.

A text cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`
(OWASP's advice for CSV injection), so a strategy named `=HYPERLINK(...)` reads as that text.
Numbers are not text: an int or float cell (-0.5 included) is written as the number, so the
columns of values stay numeric. A number that arrives as text ("-0.5", an uploaded id "-7")
is text and gets the `'`. None is an empty cell. Records end in CRLF (RFC 4180), so a field
holding a CR or LF anywhere is quoted and stays one field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: object) -> object:
    """The value as written: numbers as numbers, text defused, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, int | float | Decimal):  # bool is an int
        return value
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_line(values: Iterable[object]) -> str:
    """One CSV record (with its newline) of defused cells."""
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow([csv_cell(v) for v in values])
    return buf.getvalue()


def csv_table(header: list[str], rows: Iterable[Iterable[object]]) -> str:
    """A whole CSV file: the header, then one record per row."""
    return "".join([csv_line(header), *(csv_line(row) for row in rows)])
