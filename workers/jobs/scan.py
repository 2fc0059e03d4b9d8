"""The scan job: load the scan's inputs, run the pure scan core, store everything at the end.

Values are written only when the scan completes, in one transaction with the report, so a
failed scan never leaves results that look complete. Scored items go to the score cache as
they are computed, so a restarted job resumes instead of starting over.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from app.config import get_settings
from app.db import session_scope
from app.models import Question, Response, Scan, ScanValue, Strategy
from app.services.own_answers import save_own_answers
from app.services.scan_report import build_report, load_values
from workers.jobs.context import JobContext, JobFailure
from workers.jobs.score_cache import DbScoreCache

OWN_ANSWER_MAX_NEW_TOKENS = 320  # the demo's own-answers job uses the same, so scans reuse them
SPEC_FIELDS = ("metrics", "sample", "examples", "pool", "template", "dtype", "seed",
               "filter_correct", "allow_unfiltered_fallback", "max_new_tokens")  # fmt: skip


def run_scan_job(ctx: JobContext) -> dict[str, Any]:
    scan_id = int(ctx.spec["scan_id"])
    try:
        return _run(ctx, scan_id)
    except BaseException:
        _set_status(scan_id, "failed")
        raise


def _run(ctx: JobContext, scan_id: int) -> dict[str, Any]:
    from workers.modeling import ModelLoadError, load_target
    from workers.scoring.scan import run_scan
    from workers.scoring.spec import ScanInputError, ScanSpec

    model_name, names, questions, responses = _inputs(scan_id)
    try:
        spec = ScanSpec(**{k: ctx.spec[k] for k in SPEC_FIELDS if k in ctx.spec})
        _set_status(scan_id, "running")
        ctx.progress("loading the model", 0, 1, force=True)
        target = load_target(model_name, cache_dir=get_settings().models_dir, dtype=spec.dtype)
        result = run_scan(spec, target, questions, responses, cache=DbScoreCache(),
                          on_progress=lambda p, d, t, e: ctx.progress(p, d, t, e))  # fmt: skip
    except (ScanInputError, ModelLoadError) as exc:
        raise JobFailure(str(exc)) from exc
    ctx.progress("saving results", 1, 1, force=True)
    _save(scan_id, names, result.to_dict(), target.model_key, int(spec.seed))
    counts = result.counts
    return {"summary": f"Scored {counts.get('scored_items', 0)} items "
            f"({counts.get('cached_items', 0)} from the cache).", "counts": counts}  # fmt: skip


def _inputs(scan_id: int) -> tuple[str, dict[str, int], list[tuple[str, str, str | None]],
                                   dict[str, dict[str, str]]]:  # fmt: skip
    """Model, strategy ids by name, every project question, and the chosen responses."""
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise JobFailure(f"scan {scan_id} no longer exists")
        ids = list(scan.spec.get("strategy_ids") or [])
        strategies = session.scalars(select(Strategy).where(Strategy.id.in_(ids))).all()
        names = {s.name: s.id for s in strategies}
        questions = [
            (str(qid), text, gold)
            for qid, text, gold in session.execute(
                select(Question.id, Question.text, Question.gold)
                .where(Question.project_id == scan.project_id).order_by(Question.position)
            )
        ]  # fmt: skip
        responses: dict[str, dict[str, str]] = {s.name: {} for s in strategies}
        by_id = {s.id: s.name for s in strategies}
        for sid, qid, text in session.execute(
            select(Response.strategy_id, Response.question_id, Response.text)
            .where(Response.strategy_id.in_(ids))
        ):  # fmt: skip
            responses[by_id[sid]][str(qid)] = text
        return scan.model_name, names, questions, responses


def _set_status(scan_id: int, status: str) -> None:
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        if scan is not None and scan.status != "succeeded":
            scan.status = status


def _save(scan_id: int, names: dict[str, int], result: dict[str, Any], model_key: str,
          seed: int) -> None:  # fmt: skip
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        assert scan is not None
        rows = list(_value_rows(scan_id, names, result["values"]))
        if rows:
            session.execute(insert(ScanValue), rows)
        session.flush()
        values, truncated = load_values(session, scan_id=scan_id)
        own = {int(k): (a["text"], a["correct"]) for k, a in result["own_answers"].items()}
        save_own_answers(session, model_key=model_key, settings_key=_own_key(result), answers=own)
        scan.summary = _summary(result, names) | {
            "report": build_report(values, truncated=truncated, seed=seed,
                                   correct_share=result["correct_share"],
                                   correct_margin=get_settings().recommend_correct_margin)
        }  # fmt: skip
        scan.model_key = model_key
        scan.status = "succeeded"
        scan.finished_at = datetime.now(UTC)


def _own_key(result: dict[str, Any]) -> str:
    s = result["settings"]
    return f"scan|{s['template']}|greedy|max_new={s['max_new_tokens']}|{result['model']['dtype']}"


def _value_rows(scan_id: int, names: dict[str, int], values: dict[str, dict[str, list]]):  # type: ignore[no-untyped-def]
    for strategy, metrics in values.items():
        for metric, rows in metrics.items():
            for r in rows:
                value = r.get("value")
                yield {
                    "scan_id": scan_id, "strategy_id": names[strategy],
                    "question_id": int(r["question_key"]), "metric": metric,
                    "value": value if value is not None and math.isfinite(value) else None,
                    "n_tokens": int(r.get("n_tokens") or 0), "truncated": bool(r.get("truncated")),
                }  # fmt: skip


def _summary(result: dict[str, Any], names: dict[str, int]) -> dict[str, Any]:
    aggregates: dict[str, list[dict[str, Any]]] = {}
    for strategy, metrics in result["aggregates"].items():
        for metric, agg in metrics.items():
            aggregates.setdefault(metric, []).append(
                {"strategy_id": names[strategy], "strategy": strategy, "n": agg.get("n", 0),
                 **{k: agg.get(k) for k in ("mean", "median", "std", "ci_low", "ci_high",
                                            "rank")}}
            )  # fmt: skip
    return {
        "aggregates": aggregates,
        "warnings": result["warnings"],
        "model": result["model"],
        "settings": result["settings"],
        "timings": result["timings"],
        "counts": result["counts"],
        "sample": [int(k) for k in result["sample"]],
        "exemplars": result["exemplars"],
        "exemplar_sources": result["exemplar_sources"],
        "correct_share": result["correct_share"],
        "own_answers": {
            "n": len(result["own_answers"]),
            "n_correct": sum(1 for a in result["own_answers"].values() if a["correct"]),
        },  # fmt: skip
    }
