"""Score and text caches: what makes a second scan cheap and a killed scan resumable.

The scan calls ``get_many(keys)`` / ``put_many({key: (sum_nll, n_tokens, truncated)})`` (after
every scored batch) and, where the cache also offers them, ``get_texts`` / ``put_texts`` for
generated own answers. ``score_key`` / ``text_key`` build the keys. ``SqliteCache`` is the
file-backed implementation the CLI uses (one committed transaction per ``put_*``, so a
killed process loses at most the batch in flight); ``MemoryCache`` serves tests.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path

from app.backends import DEFAULT_BACKEND, get_backend_kind

CachedScore = tuple[float, int, bool]  # (sum NLL, scored tokens, truncated)
SCORE_VERSION = "v1"  # bump when the scoring definition changes
DEFAULT_TAG = get_backend_kind(DEFAULT_BACKEND).tag  # "transformers@1"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def score_key(
    component: str,
    model_key: str,
    dtype: str,
    template: str,
    max_length: int,
    prefix_text: str,
    response_text: str,
    backend: str = DEFAULT_TAG,
) -> str:
    """Key of one scored (prefix, response) under one backend (name and version, so values
    from different backends never mix) and model/dtype/template/length limit."""
    return "|".join(
        [
            SCORE_VERSION,
            backend,
            component,
            model_key,
            dtype,
            template,
            str(max_length),
            text_hash(prefix_text),
            text_hash(response_text),
        ]
    )


def text_key(
    model_key: str, dtype: str, max_new_tokens: int, prompt_text: str, backend: str = DEFAULT_TAG
) -> str:
    """Key of one greedy generation (by one backend)."""
    return "|".join(["gen", backend, model_key, dtype, str(max_new_tokens), text_hash(prompt_text)])


class MemoryCache:
    """In-memory cache with counters (tests, one-off scans)."""

    def __init__(self) -> None:
        self.scores: dict[str, CachedScore] = {}
        self.texts: dict[str, str] = {}
        self.puts = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedScore]:
        return {k: self.scores[k] for k in keys if k in self.scores}

    def put_many(self, values: Mapping[str, CachedScore]) -> None:
        self.scores.update(values)
        self.puts += len(values)

    def get_texts(self, keys: Iterable[str]) -> dict[str, str]:
        return {k: self.texts[k] for k in keys if k in self.texts}

    def put_texts(self, values: Mapping[str, str]) -> None:
        self.texts.update(values)


class SqliteCache:
    """A file-backed cache (stdlib sqlite3, WAL mode), safe across processes."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), timeout=60, check_same_thread=False)
        self._lock = threading.Lock()
        with self._conn:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS scores (key TEXT PRIMARY KEY, sum_nll REAL, "
                "n_tokens INTEGER, truncated INTEGER)"
            )
            self._conn.execute("CREATE TABLE IF NOT EXISTS texts (key TEXT PRIMARY KEY, text TEXT)")

    def _select(self, table: str, columns: str, keys: list[str]) -> list[tuple]:
        rows: list[tuple] = []
        with self._lock:
            for start in range(0, len(keys), 500):
                part = keys[start : start + 500]
                marks = ",".join("?" * len(part))
                sql = f"SELECT key, {columns} FROM {table} WHERE key IN ({marks})"
                rows += self._conn.execute(sql, part).fetchall()
        return rows

    def get_many(self, keys: Iterable[str]) -> dict[str, CachedScore]:
        rows = self._select("scores", "sum_nll, n_tokens, truncated", list(keys))
        return {k: (float(s), int(n), bool(t)) for k, s, n, t in rows}

    def put_many(self, values: Mapping[str, CachedScore]) -> None:
        rows = [(k, float(s), int(n), int(bool(t))) for k, (s, n, t) in values.items()]
        with self._lock, self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO scores VALUES (?, ?, ?, ?)", rows)

    def get_texts(self, keys: Iterable[str]) -> dict[str, str]:
        return dict(self._select("texts", "text", list(keys)))

    def put_texts(self, values: Mapping[str, str]) -> None:
        with self._lock, self._conn:
            self._conn.executemany("INSERT OR REPLACE INTO texts VALUES (?, ?)", values.items())

    def close(self) -> None:
        self._conn.close()
