"""Downloads of a scan's results and training files: checked first, then streamed.

Every check that can fail (unknown scan, unfinished scan, unknown strategy or metric) runs
before the response starts, so an error is a proper 404/422 and never a truncated file. The
streamed bodies read with a session of their own, opened and closed by the stream itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from app.db import session_scope
from app.metrics import registry
from app.models import Strategy
from app.services.errors import BadInput, NotFound
from app.services.exports import (
    TrainingForm,
    aggregates_csv,
    stream_mix,
    stream_strategy,
    stream_values_csv,
)
from app.services.metrics.table import result_table
from app.services.results.imported import imported_ranking
from app.services.results.page import finished_report, get_result_page

JSON = "application/json"
CSV = "text/csv; charset=utf-8"
JSONL = "application/x-ndjson"


@dataclass(frozen=True)
class Download:
    filename: str
    media_type: str
    body: str | Iterator[str]


def slug(text: str, fallback: str = "export") -> str:
    """A safe ASCII file-name part (no quotes, slashes or control characters)."""
    s = re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:80]
    return s or fallback


def _streamed(fn: Callable[..., Iterator[str]], **kwargs: Any) -> Iterator[str]:
    with session_scope() as session:
        yield from fn(session, **kwargs)


def report_json(session: Session, *, project_id: int, scan_id: int) -> Download:
    """The full result page JSON of a finished scan."""
    finished_report(session, project_id=project_id, scan_id=scan_id)
    page = get_result_page(session, project_id=project_id, scan_id=scan_id)
    return Download(f"scan-{scan_id}-report.json", JSON, page.model_dump_json(indent=1))


def rankings_csv(session: Session, *, project_id: int, scan_id: int) -> Download:
    """The scan's rankings, then the project's imported metrics ranked over its strategies."""
    _, report = finished_report(session, project_id=project_id, scan_id=scan_id)
    table = result_table(session, project_id=project_id, report=report).where(imported=True)
    imported = [(c.name, imported_ranking(c).ranking) for c in table]
    return Download(f"scan-{scan_id}-rankings.csv", CSV, aggregates_csv(report, imported))


def values_csv(session: Session, *, project_id: int, scan_id: int) -> Download:
    """The scan's per-question values, then the imported metrics' of its strategies."""
    _, report = finished_report(session, project_id=project_id, scan_id=scan_id)
    table = result_table(session, project_id=project_id, report=report).where(imported=True)
    imported = [(c.name, c.values) for c in table if c.per == "question"]
    body = _streamed(stream_values_csv, scan_id=scan_id, imported=imported)
    return Download(f"scan-{scan_id}-values.csv", CSV, body)


def strategy_jsonl(
    session: Session, *, project_id: int, strategy_id: int, form: TrainingForm
) -> Download:
    """Every response of one strategy as training records."""
    strategy = session.get(Strategy, strategy_id)
    if strategy is None or strategy.project_id != project_id:
        raise NotFound(f"strategy {strategy_id} not found in project {project_id}")
    body = _streamed(stream_strategy, project_id=project_id, strategy_id=strategy_id, form=form)
    return Download(f"{slug(strategy.name, 'strategy')}-{form}.jsonl", JSONL, body)


def mix_jsonl(
    session: Session, *, project_id: int, scan_id: int, metric: str, form: TrainingForm
) -> Download:
    """Per scanned question, the most familiar acceptable response by ``metric``."""
    _, report = finished_report(session, project_id=project_id, scan_id=scan_id)
    if metric not in registry.familiarity(report.metrics):
        have = ", ".join(registry.familiarity(report.metrics))
        raise BadInput(f"the mix is chosen by a familiarity metric of the scan ({have})")
    body = _streamed(stream_mix, scan_id=scan_id, metric=metric, form=form)
    return Download(f"scan-{scan_id}-mix-{metric}-{form}.jsonl", JSONL, body)
