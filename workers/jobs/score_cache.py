"""The score and text caches in the database: a second scan reuses values, a killed scan
resumes, and own answers generated once (by the demo or an earlier scan) are reused.

Keys from `workers.scoring.cache` are long (model key, settings, text hashes); rows are keyed
by their SHA-256.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.db import session_scope
from app.models import ScoreCache, TextCache

Entry = tuple[float, int, bool]  # sum NLL, scored tokens, truncated
CHUNK = 500


def row_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


class DbScoreCache:
    """`get_many` / `put_many` and `get_texts` / `put_texts`, each call its own short session."""

    def __init__(self) -> None:
        self.hits = 0
        self.writes = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, Entry]:
        rows = self._select(ScoreCache, keys)
        out = {
            k: (float("nan") if r.value is None else r.value, r.n_tokens, r.truncated)
            for k, r in rows.items()
        }
        self.hits += len(out)
        return out

    def put_many(self, values: Mapping[str, Entry]) -> None:
        rows = [
            {
                "key": row_key(k),
                "value": None if v != v else float(v),
                "n_tokens": int(n),
                "truncated": bool(t),
            }
            for k, (v, n, t) in values.items()
        ]
        self._insert(ScoreCache, rows)
        self.writes += len(rows)

    def get_texts(self, keys: Iterable[str]) -> dict[str, str]:
        return {k: r.text for k, r in self._select(TextCache, keys).items()}

    def put_texts(self, values: Mapping[str, str]) -> None:
        self._insert(TextCache, [{"key": row_key(k), "text": t} for k, t in values.items()])

    @staticmethod
    def _select(model: Any, keys: Iterable[str]) -> dict[str, Any]:
        by_hash = {row_key(k): k for k in keys}
        hashes = list(by_hash)
        out: dict[str, Any] = {}
        with session_scope() as session:
            for start in range(0, len(hashes), CHUNK):
                chunk = hashes[start : start + CHUNK]
                for row in session.scalars(select(model).where(model.key.in_(chunk))):
                    out[by_hash[row.key]] = row
        return out

    @staticmethod
    def _insert(model: Any, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with session_scope() as session:
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            for start in range(0, len(rows), CHUNK):
                stmt = insert(model).values(rows[start : start + CHUNK])
                session.execute(stmt.on_conflict_do_nothing(index_elements=["key"]))
