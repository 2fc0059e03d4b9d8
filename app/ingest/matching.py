"""Match questions across strategies: by the file's id, else by normalized question text."""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from app.ingest.records import Record


def normalize_question(text: str) -> str:
    """NFKC, casefold, whitespace runs collapsed to one space, ends stripped.

    Digits and punctuation are kept: they can change what a question asks.
    """
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def question_key(text: str) -> str:
    """A short stable key for a question: 16 hex characters of the normalized text's SHA-1."""
    return _key(normalize_question(text))


def _key(normalized: str) -> str:
    return hashlib.sha1(normalized.encode("utf-8")).hexdigest()[:16]


def match_key(record: Record) -> str:
    """`id:<source_id>` when the file gave an id, else `q:<question_key>`."""
    if record.source_id:
        return f"id:{record.source_id}"
    return f"q:{question_key(record.question)}"


def coverage(strategies: Mapping[str, Iterable[Record]]) -> dict:
    """How far the strategies answer the same questions.

    Returns {"union": questions answered by any strategy, "shared": answered by all,
    "strategies": {name: {"answered": n, "share": n / union}}}.
    """
    keys = {name: {match_key(r) for r in records} for name, records in strategies.items()}
    union: set[str] = set().union(*keys.values())
    shared = set.intersection(*keys.values()) if keys else set()
    per_strategy = {
        name: {"answered": len(ks), "share": len(ks) / len(union) if union else 0.0}
        for name, ks in keys.items()
    }
    return {"union": len(union), "shared": len(shared), "strategies": per_strategy}


PREFIX_CHARS = 40
V = TypeVar("V")


class QuestionMatcher(Generic[V]):
    """Finds the already-seen question a new record refers to.

    In order: the file's id, the normalized text's key, then a prefix match that pairs a
    question with the same question plus an appended instruction (the GSM8K ground truth
    lacks the "Please provide the final answer..." line the other strategies' questions
    carry): one normalized text must start with the other, and the shorter must be at least
    ``PREFIX_CHARS`` long. Values are whatever the caller keeps per question (a database
    row, a corpus key).
    """

    def __init__(self) -> None:
        self.by_id: dict[str, V] = {}
        self.by_text: dict[str, V] = {}
        self.by_prefix: dict[str, list[tuple[str, V]]] = {}

    def find(self, question: str, source_id: str | None = None) -> V | None:
        if source_id and source_id in self.by_id:
            return self.by_id[source_id]
        norm = normalize_question(question)
        key = _key(norm)
        if key in self.by_text:
            return self.by_text[key]
        for other, value in self.by_prefix.get(norm[:PREFIX_CHARS], []):
            if other.startswith(norm) or norm.startswith(other):
                return value
        return None

    def add(self, question: str, value: V, source_id: str | None = None) -> None:
        if source_id:
            self.by_id.setdefault(source_id, value)
        norm = normalize_question(question)
        self.by_text.setdefault(_key(norm), value)
        if len(norm) >= PREFIX_CHARS:
            self.by_prefix.setdefault(norm[:PREFIX_CHARS], []).append((norm, value))
