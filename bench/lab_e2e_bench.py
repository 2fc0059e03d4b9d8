"""Strategy lab, end to end: the wall time from "start the sample" to "recommendation shown"
(issue 21), through the app's own services and jobs, on a fresh SQLite data dir.

A project of Q GSM8K questions (the research data's ground truth uploaded as a strategy),
five presets (direct, step_by_step, rewrite_gold, simple_response and the rule
rule_answer_first), a sample of all Q questions; then the jobs run one after the other as
the embedded workers would run them (the sample, the answer checks, the scan), and the
scan's result page is fetched until it shows the recommendation. The teacher is the target
itself: in the worker by default, or through a server with --base-url (a vLLM server of the
packaged model, for example). Prints each job's time, answers/s and new tokens/s of the
sample, the wall time and the pick.

    python bench/lab_e2e_bench.py [--questions 10] [--max-tokens 64] [--base-url URL]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data/sppl-gsm8k/train_filtered.json")
PRESETS = ("direct", "step_by_step", "rewrite_gold", "simple_response", "rule_answer_first")
TARGET = "packaged:SmolLM2-135M-Instruct"


def _project(session: Any, data: Path, n: int, max_tokens: int, base_url: str | None) -> int:
    from app.lab.presets import preset
    from app.lab.recipes import save_recipe
    from app.lab.teachers import ensure_target_teacher
    from app.schemas.lab import RecipeCreate
    from app.schemas.projects import ProjectCreate
    from app.services.projects import create_project
    from app.services.uploads import ingest_files

    project = create_project(session, data=ProjectCreate(name="lab e2e", target_model=TARGET))
    rows = json.loads(data.read_text())[:n]
    ingest_files(
        session,
        project_id=project.id,
        files=[("ground_truth.json", json.dumps(rows).encode())],
        origin="upload",
    )
    if base_url:  # the target teacher through a server instead of in the worker
        ensure_target_teacher(session, project_id=project.id).base_url = base_url
    for name in PRESETS:
        content = preset(name).model_copy(update={"max_tokens": max_tokens})
        save_recipe(
            session, project_id=project.id, data=RecipeCreate(name=name, **content.model_dump())
        )
    return project.id


def _next_queued(session: Any, project_id: int) -> Any:
    from sqlalchemy import select

    from app.models import Job

    return session.scalars(
        select(Job)
        .where(Job.project_id == project_id, Job.status == "queued")
        .order_by(Job.id)
        .limit(1)
    ).first()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=10)
    ap.add_argument("--max-tokens", type=int, default=64)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--base-url", help="a server of the target (default: in the worker)")
    args = ap.parse_args()

    sys.path.insert(0, str(ROOT))
    from bench.fresh_app import fresh_app

    fresh_app("familiar-lab-e2e-")
    from fastapi.testclient import TestClient

    from app.db import session_scope
    from app.lab.samples import start_sample
    from app.main import create_app
    from app.models import Job, Scan
    from app.specs.lab import LabSampleCreate
    from workers.tasks import run_job

    with session_scope() as session:
        pid = _project(session, args.data, args.questions, args.max_tokens, args.base_url)
    with session_scope() as session:  # the analyze job of the upload: not part of the run
        while (job := _next_queued(session, pid)) is not None:
            session.commit()
            run_job(job.id)
            session.expire_all()
    client = TestClient(create_app(), base_url="http://127.0.0.1")

    started = time.perf_counter()
    ask = LabSampleCreate(recipes=list(PRESETS), n_questions=args.questions, seed=0)
    with session_scope() as session:
        sample_id = start_sample(session, project_id=pid, data=ask).id
    jobs = []
    with session_scope() as session:
        while (job := _next_queued(session, pid)) is not None:
            kind, job_id = job.kind, job.id
            session.commit()
            t0 = time.perf_counter()
            run_job(job_id)
            jobs.append({"job": job_id, "kind": kind, "s": round(time.perf_counter() - t0, 2)})
            session.expire_all()
            row = session.get(Job, job_id)
            if row.status != "succeeded":
                raise SystemExit(f"job {job_id} ({kind}) {row.status}: {row.error}")
        sample = session.get(Job, sample_id)
        scan_id = (sample.result or {}).get("promoted", {}).get("scan_id")
        if scan_id is None:
            raise SystemExit(f"no scan started: {sample.result}")
    page = client.get(f"/projects/{pid}/scans/{scan_id}")
    wall = time.perf_counter() - started
    with session_scope() as session:
        scan = session.get(Scan, scan_id)
        pick = scan.recommended
        result = session.get(Job, sample_id).result or {}
    shown = page.status_code == 200 and pick is not None and pick in page.text
    tokens = sum(r.get("completion_tokens", 0) for r in result.get("recipes", []))
    sample_s = next(j["s"] for j in jobs if j["job"] == sample_id)
    for j in jobs:
        print(json.dumps(j))
    out = {
        "teacher": args.base_url or "the target in the worker",
        "recipes": len(PRESETS),
        "questions": args.questions,
        "max_tokens": args.max_tokens,
        "answers": result.get("answered", 0) + result.get("rule_answers", 0),
        "sample_s": sample_s,
        "answers_per_s": round(result.get("answered", 0) / sample_s, 3),
        "new_tokens_per_s": round(tokens / sample_s, 1),
        "start_to_recommendation_s": round(wall, 1),
        "pick": pick,
        "recommendation_shown": shown,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
