"""`familiar lab full-set`: the rest of the project's questions with one lab strategy's
recipe version (the scan's pick), estimate first (``--estimate`` sends nothing)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.core import EXIT_BAD_INPUT, EXIT_FAILED, _fail, _prepare
from app.cli.lab import ProjectArg, lab


@lab.command("full-set")
def full_set(
    project_id: ProjectArg,
    strategy: Annotated[int, typer.Option(min=1, help="The lab strategy's id (the pick)")],
    budget: Annotated[float | None, typer.Option(min=0, help="Most the run may spend")] = None,
    estimate: Annotated[bool, typer.Option(help="Print the estimate only")] = False,
) -> None:
    """Queue the full set with a lab strategy's recipe (or --estimate it as JSON)."""
    from app.db import session_scope
    from app.lab.full_set import estimate_full_set, start_full_set
    from app.services.errors import BadInput, NotFound
    from app.specs.lab import LabFullSetCreate

    try:
        data = LabFullSetCreate(strategy_id=strategy, budget=budget)
    except ValidationError as exc:
        raise _fail(f"full-set: {exc.errors()[0]['msg']}", EXIT_BAD_INPUT) from None
    _prepare()
    try:
        with session_scope() as session:
            if estimate:
                out = estimate_full_set(session, project_id=project_id, data=data)
                typer.echo(json.dumps(out, indent=1))
                return
            job = start_full_set(session, project_id=project_id, data=data)
    except BadInput as exc:
        raise _fail(exc, EXIT_BAD_INPUT) from None
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(f"queued job {job.id}: the full set, {len(job.spec['question_ids'])} questions")
