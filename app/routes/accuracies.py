"""Downstream accuracies of a project's strategies: list, upload (API and the scan page's
form, whose refusals come back on that page) and clear."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import SessionDep
from app.ingest.records import UploadError
from app.routes.results import _local, refused_on_scan_page
from app.schemas.results import AccuracyRow, AccuracyUploadResult
from app.security.guards import ProjectId
from app.services.errors import BadInput, TooLarge
from app.services.results import accuracy as acc
from app.specs.forms import FormState

router = APIRouter()


@router.get(
    "/api/v1/projects/{project_id:id}/accuracies",
    response_model=list[AccuracyRow],
    tags=["results"],
)
def api_accuracies(project_id: ProjectId, session: SessionDep) -> list[AccuracyRow]:
    return acc.list_accuracies(session, project_id=project_id)


@router.post(
    "/api/v1/projects/{project_id:id}/accuracies",
    response_model=AccuracyUploadResult,
    status_code=201,
    tags=["results"],
)
def api_upload_accuracies(
    project_id: ProjectId,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="CSV, JSON or JSONL: strategy, accuracy, seed")],
) -> AccuracyUploadResult:
    """All or nothing; replaces the named strategies' accuracies; 0-100 is normalised."""
    data = file.file.read()  # a plain def: runs in the thread pool, off the event loop
    return acc.store_accuracies(
        session, project_id=project_id, filename=file.filename or "upload", data=data
    )


@router.delete("/api/v1/projects/{project_id:id}/accuracies", tags=["results"])
def api_clear_accuracies(project_id: ProjectId, session: SessionDep) -> dict[str, int]:
    return {"deleted": acc.clear_accuracies(session, project_id=project_id)}


@router.post("/projects/{project_id:id}/accuracies", include_in_schema=False, response_model=None)
def upload_accuracies_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
    next: Annotated[str, Form()] = "",
    scan_id: Annotated[str, Form(max_length=20)] = "",
    metric: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse | RedirectResponse:
    """A refused file comes back on the scan page it was sent from (422), the reason next
    to the file field."""
    filename = (file.filename if file else "") or ""
    try:
        if file is None or not filename:
            raise BadInput("file: choose a file of accuracies", field="file")
        data = file.file.read()  # a plain def: runs in the thread pool, off the event loop
        acc.store_accuracies(session, project_id=project_id, filename=filename, data=data)
    except (UploadError, BadInput, TooLarge) as exc:
        session.rollback()
        state = FormState({"file": [filename]}, {"file": str(exc).removeprefix("file: ")})
        page = refused_on_scan_page(
            request,
            session,
            project_id=project_id,
            scan_id=scan_id,
            metric=metric,
            forms={"accuracy_form": state},
        )
        if page is None:
            raise
        return page
    return RedirectResponse(_local(next, f"/projects/{project_id}"), status_code=303)


@router.post("/projects/{project_id:id}/accuracies/clear", include_in_schema=False)
def clear_accuracies_form(
    project_id: ProjectId, session: SessionDep, next: Annotated[str, Form()] = ""
) -> RedirectResponse:
    acc.clear_accuracies(session, project_id=project_id)
    return RedirectResponse(_local(next, f"/projects/{project_id}"), status_code=303)
