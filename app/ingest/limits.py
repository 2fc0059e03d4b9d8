"""How much an upload may decode to: rows, bytes, nesting (set from the settings)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DecodeLimits:
    """What one file may hold, checked while it is read (Settings: MAX_UPLOAD_ROWS,
    MAX_UPLOAD_DECODED_MB, MAX_UPLOAD_DEPTH); None: no limit."""

    rows: int | None = None
    decoded_bytes: int | None = None  # Parquet: the decoded data (text: about the file size)
    depth: int | None = None  # lists and objects inside a record (the record itself is 1)


NO_LIMITS = DecodeLimits()
