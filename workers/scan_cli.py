"""``familiar scan FILE...``: a familiarity scan of response files, results as JSON.

Each FILE is one strategy, named after the file stem (a file with a strategy column yields
one strategy per value). Files are read with ``app.ingest`` in any upload format; questions
are matched across files as uploads match them (``app.ingest.matching.QuestionMatcher``:
the file's id, the normalised text with repeats paired in order, or the same content in
another prompt format).
Converted models live in ``<cache_dir>/models``; scores and own
answers are cached in ``<cache_dir>/scores.sqlite``, so a repeated or interrupted scan only
computes what is missing. Progress goes to stderr.

A file's own ``correct`` field (however spelled, read as uploads read it) is kept per
response; with ``verdicts_from="file"`` those verdicts replace the judge's in the share
correct and the correctness rule, by the web's rule (``app.services.verdicts``), as in a
project whose verdicts come from its files.
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
from app.services.verdicts import VERDICTS_FROM, settled_verdict
from app.specs.scan import ScanInputError, ScanSpec


@dataclass
class Corpus:
    """Questions (stable order) and responses per strategy read from the files."""

    texts: dict[str, str] = field(default_factory=dict)  # insertion order = question order
    golds: dict[str, str | None] = field(default_factory=dict)
    responses: dict[str, dict[str, str]] = field(default_factory=dict)
    source_ids: dict[str, str | None] = field(default_factory=dict)
    # strategy -> question key -> the file's own verdict, where the row carries one
    file_correct: dict[str, dict[str, bool]] = field(default_factory=dict)
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
    correct: bool | None = None


def _read_rows(path: Path) -> list[_Row]:
    parsed = read_file(path)
    return [
        _Row(r.question, r.response, r.gold, r.source_id, r.strategy, r.correct)
        for r in parsed.records
    ]


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
    verdicts = corpus.file_correct.setdefault(strategy, {})
    if row.correct is None:
        verdicts.pop(key, None)
    else:
        verdicts[key] = row.correct
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


Verdicts = dict[str, dict[str, tuple[bool | None, str]]]


def file_verdicts(corpus: Corpus, spec: ScanSpec, verdicts_from: str) -> Verdicts | None:
    """The files' own verdicts where ``verdicts_from`` is ``file``, settled by the web's
    rule (the scan judges every response without one); None: the judge's verdicts only,
    with a note on stderr when the files carry verdicts that go unused (not a warning in
    the results, which stay those of a project judged by Familiar)."""
    if verdicts_from not in VERDICTS_FROM:
        raise ScanInputError(f"verdicts_from must be judge or file, not {verdicts_from!r}")
    n_file = sum(len(by_key) for by_key in corpus.file_correct.values())
    if verdicts_from == "judge":
        if n_file:
            print(
                f"[familiar] note: {n_file} responses carry their file's own verdict (a "
                "correct field); --verdicts-from file counts them in place of the judge's",
                file=sys.stderr,
                flush=True,
            )
        return None
    if spec.judge != "auto":
        raise ScanInputError(
            f"judge {spec.judge!r} judges every response; the files' verdicts replace "
            "Familiar's own judge (auto): choose one"
        )
    return {
        strategy: {key: settled_verdict(None, None, ok, True) for key, ok in by_key.items()}
        for strategy, by_key in corpus.file_correct.items()
    }


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
    verdicts_from: str = "judge",
) -> dict[str, Any]:
    """Scan the files against ``spec.model``; write and return the results dict.

    Models are cached in ``models_dir`` (default ``<cache_dir>/models``), scores and own
    answers in ``<cache_dir>/scores.sqlite``. Warnings go to stderr as well as into the
    results. ``verdicts_from``: whose verdicts count, ``judge`` or ``file`` (a project's
    choice). Raises ``ScanInputError`` (bad settings, no shared questions),
    ``ModelLoadError`` and ``app.ingest`` ``UploadError`` (bad file).
    """
    if not spec.model:
        raise ScanInputError("model: name the target model")
    corpus = read_corpus(files)
    verdicts = file_verdicts(corpus, spec, verdicts_from)
    progress = StderrProgress()
    models = Path(models_dir) if models_dir else Path(cache_dir) / "models"
    results = _scan(spec, corpus, spec.model, Path(cache_dir), models, progress, verdicts)
    results["verdicts_from"] = verdicts_from
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
    verdicts: Verdicts | None = None,
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
            spec,
            target,
            corpus.questions,
            corpus.responses,
            on_progress=progress,
            cache=cache,
            verdicts=verdicts,
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
