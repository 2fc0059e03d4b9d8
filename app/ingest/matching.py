"""Match questions across strategies: by the file's id, else by normalized question text."""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass
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
NOT_ALNUM = re.compile(r"[\W_]+")
V = TypeVar("V")

RULES = {
    "id": "the same explicit id",
    "text": "the same question text (case, Unicode form and whitespace ignored)",
    "contained": (
        "the same content in another prompt format: one question, stripped to its letters "
        "and digits, contains the other (an instruction line before or after, other option "
        "formatting); used only when exactly one question fits and the shorter has at least "
        f"{PREFIX_CHARS} characters"
    ),
}
REPEAT_RULE = (
    "A question text that repeats within one strategy is kept once per occurrence: the k-th "
    "occurrence pairs with the k-th occurrence of that text in another strategy, preferring "
    "one with the same gold answer; a repeat whose gold differs stays a separate question. "
    "Explicit ids are never merged with another id."
)


def normalize_gold(gold: str | None) -> str | None:
    """Gold text compared loosely: stripped, thousands commas and a trailing '.0' dropped."""
    if gold is None or not gold.strip():
        return None
    g = " ".join(gold.split()).replace(",", "").casefold()
    return g[:-2] if g.endswith(".0") else g


def squash(normalized: str) -> str:
    """Only letters and digits: what is left when formatting and punctuation are ignored."""
    return NOT_ALNUM.sub("", normalized)


@dataclass(frozen=True)
class Match(Generic[V]):
    value: V
    rule: str  # a key of RULES
    gold_conflict: bool = False


@dataclass
class _Entry(Generic[V]):
    value: V
    source_id: str | None
    gold: str | None
    squashed: str


class QuestionMatcher(Generic[V]):
    """Finds the already-seen question a new record refers to.

    In order: the file's id; the normalized text (among repeats: the first one the
    strategy has not used yet, same gold first); then the same content in another prompt
    format (``RULES["contained"]``). A record with an id never matches a question that has
    another id. ``taken`` holds the values the current strategy already paired, so a
    repeated question pairs with the next occurrence. Values are whatever the caller keeps
    per question (a database row, a corpus key).
    """

    def __init__(self) -> None:
        self.by_id: dict[str, V] = {}
        self.by_text: dict[str, list[_Entry[V]]] = {}
        self.entries: list[_Entry[V]] = []
        self.by_start: dict[str, list[_Entry[V]]] = {}  # first PREFIX_CHARS letters/digits
        self._joined = ""  # every entry's letters/digits, NUL-separated, in entry order
        self._starts: list[int] = []  # where each entry begins in _joined

    def find(
        self,
        question: str,
        source_id: str | None = None,
        gold: str | None = None,
        taken: Container[V] = (),
    ) -> Match[V] | None:
        if source_id and source_id in self.by_id:
            return Match(self.by_id[source_id], "id")
        norm = normalize_question(question)
        usable = [e for e in self.by_text.get(_key(norm), []) if _usable(e, source_id, taken)]
        if usable:
            return _best(usable, normalize_gold(gold), "text")
        return self._contained(squash(norm), source_id, normalize_gold(gold), taken)

    def _contained(
        self, squashed: str, source_id: str | None, gold: str | None, taken: Container[V]
    ) -> Match[V] | None:
        if len(squashed) < PREFIX_CHARS:
            return None
        # The common case first (an instruction appended): one text starts with the other.
        starts = [
            e
            for e in self.by_start.get(squashed[:PREFIX_CHARS], ())
            if e.squashed.startswith(squashed) or squashed.startswith(e.squashed)
        ]
        found = self._one(starts, source_id, gold, taken)
        if found is None:
            found = self._one(
                self._inside(squashed) + self._around(squashed), source_id, gold, taken
            )
        return None if found is None else Match(found.value, "contained")

    @staticmethod
    def _one(
        entries: list[_Entry[V]], source_id: str | None, gold: str | None, taken: Container[V]
    ) -> _Entry[V] | None:
        fits = {id(e): e for e in entries if _usable(e, source_id, taken)}
        same = [e for e in fits.values() if gold is None or e.gold is None or e.gold == gold]
        return same[0] if len(same) == 1 else None

    def _inside(self, squashed: str) -> list[_Entry[V]]:
        """Stored questions contained in ``squashed``: found by their first characters."""
        out = []
        for i in range(len(squashed) - PREFIX_CHARS + 1):
            for e in self.by_start.get(squashed[i : i + PREFIX_CHARS], ()):
                if e.squashed in squashed:
                    out.append(e)
        return out

    def _around(self, squashed: str) -> list[_Entry[V]]:
        """Stored questions that contain ``squashed``: one search through all of them."""
        out, at = [], self._joined.find(squashed)
        while at != -1:
            k = bisect.bisect_right(self._starts, at) - 1
            out.append(self.entries[k])
            at = self._joined.find(squashed, self._starts[k] + len(self.entries[k].squashed) + 1)
        return [e for e in out if len(e.squashed) >= PREFIX_CHARS]

    def add(
        self, question: str, value: V, source_id: str | None = None, gold: str | None = None
    ) -> None:
        if source_id:
            self.by_id.setdefault(source_id, value)
        norm = normalize_question(question)
        entry = _Entry(value, source_id or None, normalize_gold(gold), squash(norm))
        self.by_text.setdefault(_key(norm), []).append(entry)
        self.entries.append(entry)
        if len(entry.squashed) >= PREFIX_CHARS:
            self.by_start.setdefault(entry.squashed[:PREFIX_CHARS], []).append(entry)
        self._starts.append(len(self._joined))
        self._joined += entry.squashed + "\0"


def _usable(entry: _Entry[V], source_id: str | None, taken: Container[V]) -> bool:
    if entry.value in taken:
        return False
    return not (source_id and entry.source_id and entry.source_id != source_id)


def _best(entries: list[_Entry[V]], gold: str | None, rule: str) -> Match[V] | None:
    """Same gold first, then one without gold; a conflicting gold only when it is the only one."""
    for e in entries:
        if gold is not None and e.gold == gold:
            return Match(e.value, rule)
    for e in entries:
        if gold is None or e.gold is None:
            return Match(e.value, rule)
    if len(entries) == 1:
        return Match(entries[0].value, rule, gold_conflict=True)
    return None
