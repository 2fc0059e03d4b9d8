"""`familiar lab price` and `familiar lab budget`: the project's price table and budget
headless (the same services as the lab page's forms and ``/api/v1/.../lab/prices``)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.core import EXIT_BAD_INPUT, EXIT_FAILED, _fail, _prepare
from app.cli.lab import ProjectArg, lab

PerMillion = Annotated[float, typer.Option(min=0, help="Per million tokens")]


@lab.command("price")
def price(
    project_id: ProjectArg,
    model: Annotated[str, typer.Argument(help="The model's name, as its teacher names it")],
    prompt: PerMillion,
    completion: PerMillion,
) -> None:
    """Set what MODEL costs the project per million prompt and answer tokens."""
    from app.db import session_scope
    from app.lab.budget import set_price
    from app.schemas.lab import PriceSet
    from app.services.errors import NotFound
    from app.services.projects import get_project_row

    try:
        data = PriceSet(model=model, prompt_per_mtok=prompt, completion_per_mtok=completion)
    except ValidationError as exc:
        raise _fail(f"price: {exc.errors()[0]['msg']}", EXIT_BAD_INPUT) from None
    _prepare()
    try:
        with session_scope() as session:
            get_project_row(session, project_id=project_id)
            saved = set_price(session, project_id=project_id, data=data)
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(json.dumps(saved.model_dump()))


@lab.command("budget")
def budget(
    project_id: ProjectArg,
    limit: Annotated[
        float | None, typer.Option(min=0, help="The most all lab runs may spend together")
    ] = None,
    no_limit: Annotated[bool, typer.Option("--no-limit", help="Remove the limit")] = False,
    currency: Annotated[str | None, typer.Option(help="A label, e.g. USD")] = None,
) -> None:
    """Show the project's lab budget and spend; --limit X or --no-limit changes it."""
    from app.db import session_scope
    from app.lab.budget import get_budget, set_budget
    from app.schemas.lab import BudgetSet
    from app.services.errors import NotFound
    from app.services.projects import get_project_row

    if no_limit and limit is not None:
        raise _fail("budget: give --limit or --no-limit, not both", EXIT_BAD_INPUT)
    _prepare()
    try:
        with session_scope() as session:
            get_project_row(session, project_id=project_id)
            now = get_budget(session, project_id=project_id)
            if limit is not None or no_limit or currency is not None:
                try:
                    data = BudgetSet(
                        limit=None if no_limit else (limit if limit is not None else now.limit),
                        currency=currency or now.currency,
                    )
                except ValidationError as exc:
                    raise _fail(f"budget: {exc.errors()[0]['msg']}", EXIT_BAD_INPUT) from None
                now = set_budget(session, project_id=project_id, data=data)
    except NotFound as exc:
        raise _fail(exc, EXIT_FAILED) from None
    typer.echo(json.dumps(now.model_dump()))
