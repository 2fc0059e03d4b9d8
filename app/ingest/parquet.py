"""Parquet uploads: rows as Python values, bounded from the metadata before any is built."""

from __future__ import annotations

import io
from typing import Any

from app.ingest.limits import NO_LIMITS, DecodeLimits
from app.ingest.records import UploadError

Row = tuple[int, dict[str, Any]]


def parquet_rows(filename: str, data: bytes, limits: DecodeLimits = NO_LIMITS) -> list[Row]:
    """Rows of a Parquet file as Python values, numbered from 1.

    Bounded before any row is built: the row count and the sizes declared in the metadata,
    then the decoded size of every text column computed on its dictionary (a file of a few
    hundred KB can hold one long text repeated a million times)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(io.BytesIO(data)).metadata
        _check_parquet_metadata(filename, meta, limits)
        texts = [f.name for f in pq.read_schema(io.BytesIO(data)) if _is_text(f.type)]
        table = pq.read_table(io.BytesIO(data), read_dictionary=texts)
    except (pa.ArrowException, OSError) as exc:
        raise UploadError(filename, f"not a readable Parquet file ({exc})") from None
    _check_decoded_size(filename, table, limits)
    return list(enumerate(table.to_pylist(), start=1))


def _is_text(t: Any) -> bool:
    import pyarrow as pa

    return any(
        f(t)
        for f in (
            pa.types.is_string,
            pa.types.is_large_string,
            pa.types.is_binary,
            pa.types.is_large_binary,
        )
    )


def _check_parquet_metadata(filename: str, meta: Any, limits: DecodeLimits) -> None:
    if limits.rows is not None and meta.num_rows > limits.rows:
        message = f"the file has {meta.num_rows:,} rows; at most {limits.rows:,} are accepted"
        raise UploadError(filename, message)
    declared = sum(
        meta.row_group(g).column(c).total_uncompressed_size
        for g in range(meta.num_row_groups)
        for c in range(meta.num_columns)
    )
    if limits.decoded_bytes is not None and declared > limits.decoded_bytes:
        raise UploadError(filename, _too_big(declared, limits.decoded_bytes))


def _check_decoded_size(filename: str, table: Any, limits: DecodeLimits) -> None:
    """What the rows will take once built: text columns measured on their dictionaries."""
    if limits.decoded_bytes is None:
        return
    total = 0
    for name, column in zip(table.column_names, table.columns, strict=True):
        total += sum(_decoded_bytes(chunk) for chunk in column.chunks)
        if total > limits.decoded_bytes:
            raise UploadError(filename, _too_big(total, limits.decoded_bytes), field=name)


def _decoded_bytes(chunk: Any) -> int:
    import pyarrow as pa
    import pyarrow.compute as pc

    if not pa.types.is_dictionary(chunk.type):
        return int(chunk.nbytes)
    lengths = pc.take(pc.binary_length(chunk.dictionary), chunk.indices)
    return int(pc.sum(lengths).as_py() or 0) + 8 * len(chunk)


def _too_big(size: int, limit: int) -> str:
    mb = 1024 * 1024
    return (
        f"the data decodes to more than {size / mb:,.1f} MB, over the limit of "
        f"{limit / mb:,.1f} MB (MAX_UPLOAD_DECODED_MB)"
    )
