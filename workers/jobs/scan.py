"""The scan job: load the scan's inputs, run the pure scan core, store everything at the end.

Values are written only when the scan completes, in one transaction with the job's success
(``JobContext.save``), so a failed or taken-over scan never leaves results that look
complete. Scored items go to the score cache as they are computed, so a restarted or
cancelled job resumes instead of starting over.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from app.config import get_settings
from app.db import session_scope
from app.models import Question, Response, Scan, Strategy
from app.scans.output import ScanOutput
from app.scans.store import own_answers_settings_key, save_scan_result
from app.specs.scan import ScanInputError, ScanJobSpec
from workers.jobs.context import JobContext, JobFailure
from workers.jobs.score_cache import DbScoreCache


def run_scan_job(ctx: JobContext) -> dict[str, Any]:
    from workers.backends import load_backend
    from workers.modeling import ModelLoadError
    from workers.scoring.scan import run_scan

    job_spec: ScanJobSpec = ctx.spec
    spec = job_spec.scan_spec()
    model_name, questions, responses, verdicts = _inputs(job_spec.scan_id)
    try:
        ctx.progress("loading the model", 0, 1, force=True)
        target = load_backend(
            spec.backend, model_name, cache_dir=get_settings().models_dir, dtype=spec.dtype
        )
        result = run_scan(
            spec,
            target,
            questions,
            responses,
            cache=DbScoreCache(),
            on_progress=lambda p, d, t, e: ctx.progress(p, d, t, e),
            verdicts=verdicts if spec.judge == "auto" else None,
        )
    except (ScanInputError, ModelLoadError) as exc:
        raise JobFailure(str(exc)) from exc
    ctx.progress("saving results", 1, 1, force=True)
    output = ScanOutput.model_validate(result.to_dict())
    counts = result.counts
    summary = {
        "summary": f"Scored {counts.get('scored_items', 0)} items "
        f"({counts.get('cached_items', 0)} from the cache).",
        "counts": counts,
    }
    key = own_answers_settings_key(output)
    ctx.save(
        lambda session: save_scan_result(
            session,
            scan_id=job_spec.scan_id,
            output=output,
            model_key=target.model_key,
            seed=int(spec.seed),
            own_answers_key=key,
        ),
        summary,
    )
    return summary


Verdicts = dict[str, dict[str, tuple[bool | None, str]]]


def _inputs(
    scan_id: int,
) -> tuple[str, list[tuple[str, str, str | None]], dict[str, dict[str, str]], Verdicts | None]:
    """Model, every project question, the chosen strategies' responses, and their stored
    verdicts (None while some response is still to be judged: the scan judges then)."""
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        if scan is None:
            raise JobFailure(f"scan {scan_id} no longer exists")
        ids = list(scan.spec.get("strategy_ids") or [])
        strategies = session.scalars(select(Strategy).where(Strategy.id.in_(ids))).all()
        questions = [
            (str(qid), text, gold)
            for qid, text, gold in session.execute(
                select(Question.id, Question.text, Question.gold)
                .where(Question.project_id == scan.project_id)
                .order_by(Question.position)
            )
        ]
        responses: dict[str, dict[str, str]] = {s.name: {} for s in strategies}
        verdicts: Verdicts = {s.name: {} for s in strategies}
        by_id = {s.id: s.name for s in strategies}
        settled = True
        for sid, qid, text, correct, source in session.execute(
            select(
                Response.strategy_id,
                Response.question_id,
                Response.text,
                Response.correct,
                Response.verdict_source,
            ).where(Response.strategy_id.in_(ids))
        ):
            responses[by_id[sid]][str(qid)] = text
            verdicts[by_id[sid]][str(qid)] = (correct, source or "judge")
            settled = settled and source is not None
        return scan.model_name, questions, responses, verdicts if settled else None
