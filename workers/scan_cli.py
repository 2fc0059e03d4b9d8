"""``familiar scan FILE...``: a familiarity scan of response files, results as JSON.

Each FILE is one strategy, named after the file stem (a file with a strategy column yields
one strategy per value). Files are read with ``app.ingest`` in any upload format; questions
are matched across files as uploads match them (``app.ingest.matching.QuestionMatcher``:
the file's id, the normalised text with repeats paired in order, or the same content in
another prompt format).
Converted models live in ``<cache_dir>/models``; scores and own
answers are cached in ``<cache_dir>/scores.sqlite``, so a repeated or interrupted scan only
computes what is missing. Progress goes to stderr.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.ingest.matching import QuestionMatcher, question_key
from app.ingest.read import read_file
from app.specs.scan import ScanInputError, ScanSpec


@dataclass
class Corpus:
    """Questions (stable order) and responses per strategy read from the files."""

    texts: dict[str, str] = field(default_factory=dict)  # insertion order = question order
    golds: dict[str, str | None] = field(default_factory=dict)
    responses: dict[str, dict[str, str]] = field(default_factory=dict)
    source_ids: dict[str, str | None] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    matcher: QuestionMatcher[str] = field(default_factory=QuestionMatcher, repr=False)

    @property
    def questions(self) -> list[tuple[str, str, str | None]]:
        """(key, text, gold) in first-seen order (files in order, rows in order)."""
        return [(key, text, self.golds.get(key)) for key, text in self.texts.items()]


@dataclass(frozen=True)
class _Row:
    question: str
    response: str
    gold: str | None
    source_id: str | None
    strategy: str | None


def _read_rows(path: Path) -> list[_Row]:
    parsed = read_file(path)
    return [_Row(r.question, r.response, r.gold, r.source_id, r.strategy) for r in parsed.records]


def read_corpus(files: Sequence[Path]) -> Corpus:
    """Read every file into one corpus; a strategy name may appear only once."""
    corpus = Corpus()
    seen: dict[str, int] = {}
    for path in files:
        path = Path(path)
        rows = _read_rows(path)
        names = _add_file(corpus, path, rows, seen)
        corpus.files.append(
            {"path": str(path), "strategies": names, "records": len(rows), "sha256": _sha(path)}
        )
    return corpus


def _add_file(corpus: Corpus, path: Path, rows: list[_Row], seen: dict[str, int]) -> list[str]:
    names: list[str] = []
    for row in rows:
        name = row.strategy or path.stem
        if name not in corpus.responses:
            if name in seen:
                raise ScanInputError(f"strategy {name!r} comes from more than one file")
            corpus.responses[name] = {}
            names.append(name)
        seen[name] = 1
        _add_row(corpus, name, row)
    return names


def _add_row(corpus: Corpus, strategy: str, row: _Row) -> None:
    answers = corpus.responses[strategy]
    match = corpus.matcher.find(row.question, row.source_id, row.gold, answers)
    if match is None:
        key = _new_key(corpus, row)
        corpus.matcher.add(row.question, key, row.source_id, row.gold)
    else:
        key = match.value
    answers[key] = row.response
    if key not in corpus.texts:
        corpus.texts[key] = row.question
        corpus.source_ids[key] = row.source_id
    if row.gold and not corpus.golds.get(key):
        corpus.golds[key] = row.gold


def _new_key(corpus: Corpus, row: _Row) -> str:
    """`id:<id>` or `q:<text key>`; a repeated text gets `#2`, `#3`... (REPEAT_RULE)."""
    key = f"id:{row.source_id}" if row.source_id else f"q:{question_key(row.question)}"
    n, base = 1, key
    while key in corpus.texts:
        n += 1
        key = f"{base}#{n}"
    return key


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class StderrProgress:
    """Prints "phase done/total (extra)" lines to stderr, at most every ``every`` seconds."""

    def __init__(self, every: float = 2.0) -> None:
        self.every = every
        self.last_phase = ""
        self.last_time = 0.0

    def __call__(self, phase: str, done: int, total: int, extra: dict[str, Any]) -> None:
        now = time.monotonic()
        if phase == self.last_phase and done < total and now - self.last_time < self.every:
            return
        self.last_phase, self.last_time = phase, now
        rate = extra.get("tokens_per_s")
        tail = f"  {rate:,.0f} tokens/s" if rate else ""
        print(f"[familiar] {phase}: {done}/{total}{tail}", file=sys.stderr, flush=True)


def scan_files(
    files: list[Path],
    spec: ScanSpec,
    *,
    out: Path,
    cache_dir: Path,
    models_dir: Path | None = None,
) -> dict[str, Any]:
    """Scan the files against ``spec.model``; write and return the results dict.

    Models are cached in ``models_dir`` (default ``<cache_dir>/models``), scores and own
    answers in ``<cache_dir>/scores.sqlite``. Warnings go to stderr as well as into the
    results. Raises ``ScanInputError`` (bad settings, no shared questions), ``ModelLoadError``
    and ``app.ingest`` ``UploadError`` (bad file).
    """
    if not spec.model:
        raise ScanInputError("model: name the target model")
    corpus = read_corpus(files)
    progress = StderrProgress()
    models = Path(models_dir) if models_dir else Path(cache_dir) / "models"
    results = _scan(spec, corpus, spec.model, Path(cache_dir), models, progress)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False))
    for warning in results.get("warnings", []):
        print(f"[familiar] warning: {warning}", file=sys.stderr, flush=True)
    progress("written " + str(out), 1, 1, {})
    return results


def _scan(
    spec: ScanSpec,
    corpus: Corpus,
    model: str,
    cache_dir: Path,
    models_dir: Path,
    progress: StderrProgress,
) -> dict[str, Any]:
    from workers.backends import load_backend
    from workers.scoring.cache import SqliteCache
    from workers.scoring.scan import run_scan, shared_questions

    shared_questions(list(corpus.texts), corpus.responses)  # fail fast, before loading
    progress("loading", 0, 1, {})
    started = time.perf_counter()
    target = load_backend(spec.backend, model, cache_dir=models_dir, dtype=spec.dtype)
    loading = time.perf_counter() - started
    progress("loading", 1, 1, {})
    cache = SqliteCache(cache_dir / "scores.sqlite")
    try:
        result = run_scan(
            spec, target, corpus.questions, corpus.responses, on_progress=progress, cache=cache
        )
    finally:
        cache.close()
    result.timings["loading"] = loading
    result.warnings = corpus.warnings + result.warnings
    return _with_sources(result.to_dict(), corpus)


def _with_sources(results: dict[str, Any], corpus: Corpus) -> dict[str, Any]:
    """Add the files read, the sampled questions and each value row's question id."""
    sampled = set(results["sample"])
    results["files"] = corpus.files
    for metrics in results["values"].values():
        for rows in metrics.values():
            for row in rows:
                row["question_id"] = (
                    corpus.source_ids.get(row["question_key"]) or row["question_key"]
                )
    results["questions"] = {
        key: {"text": text, "gold": gold, "source_id": corpus.source_ids.get(key)}
        for key, text, gold in corpus.questions
        if key in sampled
    }
    return results
