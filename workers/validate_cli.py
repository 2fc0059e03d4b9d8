"""``familiar validate FILE... --test TEST --out results.json``: a whole validation, headless.

The files become a project in the configured database (so the run can be opened in the web
app afterwards), the test file its test set; an optional familiarity scan comes first (for
the metric-against-accuracy results); then every job of the validation runs in this
process, in order, through the same handlers the workers use (``workers.tasks.execute``),
claimed like a worker claims them (a worker that gets the same job id later skips it).
The results file is the validation page's JSON (``ValidationPage``). Progress to stderr.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from app.db import session_scope
from app.jobs import lifecycle
from app.jobs.lease import this_worker
from app.jobs.states import JobState
from app.models import Job
from app.schemas.projects import ProjectCreate
from app.specs.scan import ScanSpec
from app.specs.validation import ValidationSpec


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def create_inputs(files: list[Path], test: Path, *, model: str, name: str) -> int:
    """A project with one strategy per file and the test set; returns its id."""
    from app.services.projects import create_project
    from app.services.uploads import ingest_files
    from app.services.validations.testsets import store_test_set

    with session_scope() as session:
        project = create_project(session, data=ProjectCreate(name=name, target_model=model))
        ingest_files(
            session, project_id=project.id, files=[(p.name, p.read_bytes()) for p in files]
        )
        store_test_set(session, project_id=project.id, filename=test.name, data=test.read_bytes())
        return project.id


def run_queued(project_id: int) -> int:
    """Run this project's queued jobs here until none is left; returns how many ran."""
    from workers.tasks import execute

    ran = 0
    while True:
        with session_scope() as session:
            job_id = session.scalar(
                select(Job.id)
                .where(Job.project_id == project_id, Job.status == JobState.QUEUED.value)
                .order_by(Job.id)
            )
            if job_id is None:
                return ran
            lease = lifecycle.claim(session, job_id=job_id, owner=this_worker())
            if lease is None:
                continue
            job = session.get(Job, job_id)
            assert job is not None
            kind, spec = job.kind, dict(job.spec or {})
        _log(f"job {job_id}: {kind} {json.dumps(spec)[:120]}")
        execute(lease, kind, spec, project_id)
        with session_scope() as session:
            ended = session.get(Job, job_id)
            assert ended is not None
            _log(f"job {job_id}: {ended.status}" + (f": {ended.error}" if ended.error else ""))
        ran += 1


def validate_files(
    files: list[Path],
    test: Path,
    spec: ValidationSpec,
    *,
    out: Path,
    model: str,
    scan_sample: int = 0,
) -> dict[str, Any]:
    """The whole validation; writes ``out`` and returns the page JSON."""
    from app.services.scans import start_scan
    from app.services.validations.page import get_validation_page
    from app.services.validations.start import start_validation

    started = time.monotonic()
    pid = create_inputs(
        files, test, model=model, name=f"familiar validate {time.strftime('%F %T')}"
    )
    run_queued(pid)  # the upload's analysis
    if scan_sample:
        with session_scope() as session:
            start_scan(
                session,
                project_id=pid,
                data=ScanSpec(sample=scan_sample, allow_unfiltered_fallback=True),
            )
        run_queued(pid)
    with session_scope() as session:
        vid = start_validation(session, project_id=pid, data=spec).id
    run_queued(pid)  # training jobs add evaluation (and halving) jobs as they end
    with session_scope() as session:
        page = get_validation_page(session, project_id=pid, validation_id=vid)
    result = {
        "project_id": pid,
        "validation_id": vid,
        "seconds": round(time.monotonic() - started, 1),
        **page.model_dump(mode="json"),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=1, ensure_ascii=False))
    _log(f"validation {vid}: {page.validation.status}; results in {out}")
    return result
