"""Familiarity scans: start one (form and API) and list them. The scan's own page lives in
``app.routes.results``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import SessionDep
from app.routes.projects import project_page_with_form
from app.schemas.scans import ScanList, ScanRead
from app.security.guards import ProjectId
from app.services import scans as svc
from app.services.errors import BadInput
from app.specs.forms import FormState, spec_fields
from app.specs.scan import ScanInputError, ScanSpec
from app.web import is_htmx

router = APIRouter()


@router.post(
    "/api/v1/projects/{project_id:id}/scans",
    response_model=ScanRead,
    status_code=201,
    tags=["scans"],
)
def api_start_scan(project_id: ProjectId, data: ScanSpec, session: SessionDep) -> ScanRead:
    """Validate and queue a scan on the gpu queue; errors come before any model work."""
    scan = svc.start_scan(session, project_id=project_id, data=data)
    session.commit()
    return svc.scan_read(session, scan)


@router.get("/api/v1/projects/{project_id:id}/scans", response_model=ScanList, tags=["scans"])
def api_list_scans(project_id: ProjectId, session: SessionDep) -> ScanList:
    return svc.list_scans(session, project_id=project_id)


CHECKBOXES = ("filter_correct", "allow_unfiltered_fallback")  # unchecked: nothing is sent


@router.post("/projects/{project_id:id}/scans", include_in_schema=False, response_model=None)
async def start_scan_form(
    request: Request, project_id: ProjectId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """The form (its fields are ``ScanSpec``'s, by name). Refused values come back in the
    project page with 422: what was typed, and each reason next to its field."""
    form = await request.form()
    values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    return await run_in_threadpool(_start_from_form, request, session, project_id, values)


def _start_from_form(
    request: Request, session: SessionDep, project_id: int, values: dict[str, list[str]]
) -> HTMLResponse | RedirectResponse:
    try:
        fields = spec_fields(ScanSpec, values)
        fields.setdefault("metrics", [])  # no box ticked: refused by the spec, named
        data = ScanSpec(**{name: False for name in CHECKBOXES} | fields)
        scan = svc.start_scan(session, project_id=project_id, data=data)
    except (ScanInputError, BadInput) as exc:
        session.rollback()
        return project_page_with_form(request, session, project_id, FormState.refused(exc, values))
    session.commit()  # the page we redirect to reads it
    url = f"/projects/{project_id}/scans/{scan.id}"
    if is_htmx(request):
        return HTMLResponse("", headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)
