"""Parse an imported-metric file: all or nothing, errors naming the file, line and field.

One row per value. Fields: ``strategy`` (a strategy of the project), ``value`` (a finite
number), ``metric`` (the metric's name; or the upload's name for every row), optional
``question_id`` (the question's id in the uploaded files, or Familiar's question id) or
``question`` (its text) for a per-question value, optional ``direction`` (``lower`` or
``higher`` is better; or the upload's direction) and optional ``sample`` (a whole number:
which of K disjoint question samples the value belongs to). A metric is per question or per
strategy, never both; one direction per metric; a built-in metric name is refused.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from app.ingest.formats import decode_rows
from app.ingest.matching import question_key
from app.ingest.records import UploadError
from app.metrics import registry

NOT_METRICS = ("accuracy", "correct")  # names of other columns, never a metric's


def reserved_names() -> tuple[str, ...]:
    """Names an imported metric cannot take: the registry's metrics and ``NOT_METRICS``."""
    return (*registry.names(), *NOT_METRICS)


NAME_RE = re.compile(r"^[a-z][a-z0-9_\-]{0,39}$")
DIRECTIONS = {
    "lower": True,
    "higher": False,
    "min": True,
    "max": False,
    "lower_is_better": True,
    "higher_is_better": False,
}
QUESTION_FIELDS = ("question_id", "id", "qid")


@dataclass(frozen=True)
class QuestionLookup:
    """How the file's question references resolve to the project's question ids."""

    by_external: Mapping[str, int]
    by_internal: Mapping[str, int]  # str(id) of questions without an uploaded id
    by_text_key: Mapping[str, int]

    def find(self, ref: str, *, text: bool) -> int | None:
        if text:
            return self.by_text_key.get(question_key(ref))
        return self.by_external.get(ref, self.by_internal.get(ref))


@dataclass
class ParsedMetric:
    name: str
    lower_is_better: bool
    per: str  # "question" | "strategy"
    first_line: int
    values: dict[tuple[str, int | None, int], float] = field(default_factory=dict)
    lines: dict[tuple[str, int | None, int], int] = field(default_factory=dict)

    @property
    def samples(self) -> list[int]:
        return sorted({k[2] for k in self.values})


def check_name(filename: str, raw: Any, line: int | None, where: str) -> str:
    name = str(raw).strip().lower() if raw is not None else ""
    if not name:
        raise UploadError(filename, "a metric name is required", line=line, field=where)
    if name in reserved_names():
        message = (
            f"'{name}' is a built-in metric ({', '.join(reserved_names())}); "
            "give the imported one another name"
        )
        raise UploadError(filename, message, line=line, field=where)
    if not NAME_RE.match(name):
        message = (
            f"metric name {raw!r}: use 1-40 letters, digits, '_' or '-', starting with a letter"
        )
        raise UploadError(filename, message, line=line, field=where)
    return name


def check_direction(filename: str, raw: Any, line: int | None, where: str) -> bool:
    key = str(raw).strip().lower() if raw is not None else ""
    if key not in DIRECTIONS:
        message = f"direction must be 'lower' or 'higher' (is better), got {raw!r}"
        raise UploadError(filename, message, line=line, field=where)
    return DIRECTIONS[key]


def _value(filename: str, line: int, row: dict[str, Any]) -> float:
    raw = row.get("value")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise UploadError(filename, "a value is required", line=line, field="value")
    try:
        value = math.nan if isinstance(raw, bool) else float(str(raw).strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        message = f"the value must be a finite number, got {raw!r}"
        raise UploadError(filename, message, line=line, field="value")
    return value


def _sample(filename: str, line: int, raw: Any) -> int:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return 0
    try:
        sample = -1 if isinstance(raw, bool) else int(str(raw).strip())
    except ValueError:
        sample = -1
    if sample < 0:
        message = f"sample must be a whole number >= 0, got {raw!r}"
        raise UploadError(filename, message, line=line, field="sample")
    return sample


def _strategy(filename: str, line: int, row: dict[str, Any], known: set[str]) -> str:
    name = row.get("strategy")
    name = name.strip() if isinstance(name, str) else None
    if not name:
        raise UploadError(filename, "a strategy name is required", line=line, field="strategy")
    if name not in known:
        some = ", ".join(sorted(known)[:8]) or "none yet"
        message = f"no strategy named '{name}' in this project (strategies: {some})"
        raise UploadError(filename, message, line=line, field="strategy")
    return name


def _question(filename: str, line: int, row: dict[str, Any], lookup: QuestionLookup) -> int | None:
    where = next((f for f in QUESTION_FIELDS if row.get(f) not in (None, "")), None)
    text = where is None and row.get("question") not in (None, "")
    if where is None and not text:
        return None
    where = where or "question"
    ref = str(row[where]).strip()
    qid = lookup.find(ref, text=bool(text))
    if qid is None:
        what = "question text" if text else "question id"
        message = f"no question with this {what} in the project: {ref[:80]!r}"
        raise UploadError(filename, message, line=line, field=where)
    return qid


@dataclass(frozen=True)
class Defaults:
    name: str | None = None
    lower_is_better: bool | None = None


def parse_metric_file(
    filename: str,
    data: bytes,
    *,
    strategies: set[str],
    lookup: QuestionLookup,
    defaults: Defaults = Defaults(),
) -> dict[str, ParsedMetric]:
    """Every metric of the file, checked; raises UploadError at the first bad row."""
    _, rows = decode_rows(filename, data)
    metrics: dict[str, ParsedMetric] = {}
    for line, row in rows:
        _add_row(filename, line, row, metrics, strategies, lookup, defaults)
    return metrics


def _add_row(
    filename: str,
    line: int,
    row: dict[str, Any],
    metrics: dict[str, ParsedMetric],
    strategies: set[str],
    lookup: QuestionLookup,
    defaults: Defaults,
) -> None:
    has_name = row.get("metric") not in (None, "")
    if not has_name and defaults.name is None:
        message = "a metric name is required: a 'metric' field, or the upload's name"
        raise UploadError(filename, message, line=line, field="metric")
    name = check_name(filename, row.get("metric"), line, "metric") if has_name else defaults.name
    assert name is not None
    has_dir = row.get("direction") not in (None, "")
    lower = (
        check_direction(filename, row.get("direction"), line, "direction")
        if has_dir
        else defaults.lower_is_better
    )
    if lower is None:
        message = "say whether lower or higher is better: a 'direction' field, or the upload's"
        raise UploadError(filename, message, line=line, field="direction")
    strategy = _strategy(filename, line, row, strategies)
    qid = _question(filename, line, row, lookup)
    sample = _sample(filename, line, row.get("sample"))
    value = _value(filename, line, row)
    metric = metrics.setdefault(
        name, ParsedMetric(name, lower, "strategy" if qid is None else "question", line)
    )
    _check_consistent(filename, line, metric, lower, qid)
    key = (strategy, qid, sample)
    if key in metric.values:
        what = "question" if qid is not None else "strategy"
        message = (
            f"'{name}' already has a value for this {what} of '{strategy}' "
            f"(sample {sample}) on line {metric.lines[key]}"
        )
        raise UploadError(filename, message, line=line, field="value")
    metric.values[key], metric.lines[key] = value, line


def _check_consistent(
    filename: str, line: int, metric: ParsedMetric, lower: bool, qid: int | None
) -> None:
    if lower != metric.lower_is_better:
        said = "lower" if metric.lower_is_better else "higher"
        message = (
            f"mixed directions for '{metric.name}': line {metric.first_line} says "
            f"{said} is better; one direction per metric"
        )
        raise UploadError(filename, message, line=line, field="direction")
    per = "strategy" if qid is None else "question"
    if per != metric.per:
        message = (
            f"'{metric.name}' is per {metric.per} (line {metric.first_line}) but this "
            f"row is per {per}: give every row a question id, or none"
        )
        raise UploadError(filename, message, line=line, field="question_id")
