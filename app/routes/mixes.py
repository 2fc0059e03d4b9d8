"""Per-question mixes: a new strategy made of a finished scan's most familiar response per
question (app.services.mixes), from the JSON API or the scan page's form."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import PathId, SessionDep
from app.routes.results import render_result_page
from app.schemas.mixes import MixRequest, MixResult
from app.security.guards import ProjectId
from app.services.errors import BadInput, Conflict
from app.services.mixes import make_mix
from app.specs.forms import FormState

router = APIRouter()


@router.post(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/mix",
    response_model=MixResult,
    status_code=201,
    tags=["results"],
)
def api_make_mix(
    project_id: ProjectId, scan_id: PathId, data: MixRequest, session: SessionDep
) -> MixResult:
    """For each question the scan scored for all its strategies, the response of the
    strategy with the best value of ``metric``, stored as a new strategy of the project
    (validate it, scan it, export it like any other). 422 names why a mix cannot be made:
    the scan is unfinished, the metric has no per-question values, fewer than 2 strategies."""
    result = make_mix(
        session, project_id=project_id, scan_id=scan_id, metric=data.metric, name=data.name
    )
    session.commit()
    return result


@router.post(
    "/projects/{project_id:id}/scans/{scan_id:id}/mix",
    include_in_schema=False,
    response_model=None,
)
def make_mix_form(
    request: Request,
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: Annotated[str, Form(max_length=40)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
) -> HTMLResponse | RedirectResponse:
    """The scan page's button: make the mix, then show it among the project's strategies.
    A refused mix comes back on the scan page (422), the reason at its field, what was typed
    kept."""
    try:
        make_mix(session, project_id=project_id, scan_id=scan_id, metric=metric, name=name or None)
    except (BadInput, Conflict) as exc:
        session.rollback()
        field = "name" if isinstance(exc, Conflict) or getattr(exc, "field", None) else "metric"
        state = FormState(
            {"metric": [metric], "name": [name]}, {field: str(exc).removeprefix(f"{field}: ")}
        )
        return render_result_page(
            request, session, project_id=project_id, scan_id=scan_id, forms={"mix_form": state}
        )
    session.commit()
    return RedirectResponse(f"/projects/{project_id}#strategies", status_code=303)
