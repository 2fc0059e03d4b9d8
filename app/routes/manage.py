"""Renaming and deleting projects, strategies and scans: confirmation pages, forms, JSON API."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, ValidationError

from app.deps import PathId, SessionDep
from app.schemas.manage import DeletionPreview, Kind, ProjectRename, ScanRename, StrategyRename
from app.schemas.projects import ProjectPage, ProjectRead
from app.schemas.scans import ScanRead
from app.security.guards import ProjectId
from app.services import deletions
from app.services import projects as svc
from app.services.errors import BadInput
from app.web import render

router = APIRouter()
API = "/api/v1/projects/{project_id:id}"


# --- JSON API -------------------------------------------------------------------------------


@router.patch(API, response_model=ProjectRead, tags=["projects"])
def api_rename_project(
    project_id: ProjectId, data: ProjectRename, session: SessionDep
) -> ProjectRead:
    project = svc.rename_project(
        session, project_id=project_id, name=data.name, description=data.description
    )
    return svc.project_read(session, project)


@router.patch(API + "/strategies/{strategy_id:id}", response_model=ProjectPage, tags=["projects"])
def api_rename_strategy(
    project_id: ProjectId, strategy_id: PathId, data: StrategyRename, session: SessionDep
) -> ProjectPage:
    """Rename a strategy (409 while a stored scan names it); returns the project."""
    svc.rename_strategy(session, project_id=project_id, strategy_id=strategy_id, name=data.name)
    return svc.get_project_page(session, project_id=project_id)


@router.patch(API + "/scans/{scan_id:id}", response_model=ScanRead, tags=["scans"])
def api_rename_scan(
    project_id: ProjectId, scan_id: PathId, data: ScanRename, session: SessionDep
) -> ScanRead:
    from app.services.scans import scan_read

    scan = svc.rename_scan(session, project_id=project_id, scan_id=scan_id, label=data.label)
    return scan_read(session, scan)


def _preview(session: SessionDep, kind: Kind, project_id: int, item_id: int) -> DeletionPreview:
    return deletions.preview_deletion(session, kind=kind, project_id=project_id, item_id=item_id)


def _delete(session: SessionDep, kind: Kind, project_id: int, item_id: int) -> DeletionPreview:
    return deletions.delete_item(session, kind=kind, project_id=project_id, item_id=item_id)


@router.get(API + "/delete", response_model=DeletionPreview, tags=["projects"])
def api_preview_project_deletion(project_id: ProjectId, session: SessionDep) -> DeletionPreview:
    """What deleting the project would remove (the confirmation page's JSON twin)."""
    return _preview(session, "project", project_id, project_id)


@router.delete(API, response_model=DeletionPreview, tags=["projects"])
def api_delete_project(project_id: ProjectId, session: SessionDep) -> DeletionPreview:
    return _delete(session, "project", project_id, project_id)


@router.get(
    API + "/strategies/{strategy_id:id}/delete", response_model=DeletionPreview, tags=["projects"]
)
def api_preview_strategy_deletion(
    project_id: ProjectId, strategy_id: PathId, session: SessionDep
) -> DeletionPreview:
    return _preview(session, "strategy", project_id, strategy_id)


@router.delete(
    API + "/strategies/{strategy_id:id}", response_model=DeletionPreview, tags=["projects"]
)
def api_delete_strategy(
    project_id: ProjectId, strategy_id: PathId, session: SessionDep
) -> DeletionPreview:
    """Delete a strategy, its responses, accuracies and the scans that scored it."""
    return _delete(session, "strategy", project_id, strategy_id)


@router.get(API + "/scans/{scan_id:id}/delete", response_model=DeletionPreview, tags=["scans"])
def api_preview_scan_deletion(
    project_id: ProjectId, scan_id: PathId, session: SessionDep
) -> DeletionPreview:
    return _preview(session, "scan", project_id, scan_id)


@router.delete(API + "/scans/{scan_id:id}", response_model=DeletionPreview, tags=["scans"])
def api_delete_scan(project_id: ProjectId, scan_id: PathId, session: SessionDep) -> DeletionPreview:
    """Delete a finished or failed scan with its values and jobs (409 while it runs)."""
    return _delete(session, "scan", project_id, scan_id)


# --- pages and forms ------------------------------------------------------------------------

PAGES = {
    "project": ("/projects/{project_id}/delete", "/api/v1/projects/{project_id}/delete"),
    "strategy": (
        "/projects/{project_id}/strategies/{item_id}/delete",
        "/api/v1/projects/{project_id}/strategies/{item_id}/delete",
    ),
    "scan": (
        "/projects/{project_id}/scans/{item_id}/delete",
        "/api/v1/projects/{project_id}/scans/{item_id}/delete",
    ),
}


def _confirm_page(
    request: Request, session: SessionDep, kind: Kind, project_id: int, item_id: int
) -> HTMLResponse:
    page = _preview(session, kind, project_id, item_id)
    json_url = PAGES[kind][1].format(project_id=project_id, item_id=item_id)
    return render(request, "pages/manage/delete.html", {"page": page}, json_url=json_url)


def _after(kind: Kind, project_id: int) -> str:
    return "/" if kind == "project" else f"/projects/{project_id}"


@router.get(
    "/projects/{project_id:id}/delete", response_class=HTMLResponse, include_in_schema=False
)
def confirm_project_deletion(
    request: Request, project_id: ProjectId, session: SessionDep
) -> HTMLResponse:
    return _confirm_page(request, session, "project", project_id, project_id)


@router.post("/projects/{project_id:id}/delete", include_in_schema=False)
def delete_project_form(project_id: ProjectId, session: SessionDep) -> RedirectResponse:
    _delete(session, "project", project_id, project_id)
    return RedirectResponse(_after("project", project_id), status_code=303)


@router.get(
    "/projects/{project_id:id}/strategies/{strategy_id:id}/delete",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def confirm_strategy_deletion(
    request: Request, project_id: ProjectId, strategy_id: PathId, session: SessionDep
) -> HTMLResponse:
    return _confirm_page(request, session, "strategy", project_id, strategy_id)


@router.post(
    "/projects/{project_id:id}/strategies/{strategy_id:id}/delete", include_in_schema=False
)
def delete_strategy_form(
    project_id: ProjectId, strategy_id: PathId, session: SessionDep
) -> RedirectResponse:
    _delete(session, "strategy", project_id, strategy_id)
    return RedirectResponse(_after("strategy", project_id), status_code=303)


@router.get(
    "/projects/{project_id:id}/scans/{scan_id:id}/delete",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def confirm_scan_deletion(
    request: Request, project_id: ProjectId, scan_id: PathId, session: SessionDep
) -> HTMLResponse:
    return _confirm_page(request, session, "scan", project_id, scan_id)


@router.post("/projects/{project_id:id}/scans/{scan_id:id}/delete", include_in_schema=False)
def delete_scan_form(
    project_id: ProjectId, scan_id: PathId, session: SessionDep
) -> RedirectResponse:
    _delete(session, "scan", project_id, scan_id)
    return RedirectResponse(_after("scan", project_id), status_code=303)


T = TypeVar("T", bound=BaseModel)


def _form(schema: type[T], **fields: object) -> T:
    try:
        return schema(**fields)
    except ValidationError as exc:
        raise BadInput("; ".join(f"{e['loc'][0]}: {e['msg']}" for e in exc.errors())) from None


@router.post("/projects/{project_id:id}/rename", include_in_schema=False)
def rename_project_form(
    project_id: ProjectId,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str | None, Form()] = None,
) -> RedirectResponse:
    data = _form(ProjectRename, name=name, description=description)
    svc.rename_project(session, project_id=project_id, name=data.name, description=data.description)
    return RedirectResponse(f"/projects/{project_id}", status_code=303)


@router.post(
    "/projects/{project_id:id}/strategies/{strategy_id:id}/rename", include_in_schema=False
)
def rename_strategy_form(
    project_id: ProjectId,
    strategy_id: PathId,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
) -> RedirectResponse:
    data = _form(StrategyRename, name=name)
    svc.rename_strategy(session, project_id=project_id, strategy_id=strategy_id, name=data.name)
    return RedirectResponse(f"/projects/{project_id}/strategies/{strategy_id}", status_code=303)


@router.post("/projects/{project_id:id}/scans/{scan_id:id}/rename", include_in_schema=False)
def rename_scan_form(
    project_id: ProjectId, scan_id: PathId, session: SessionDep, label: Annotated[str, Form()] = ""
) -> RedirectResponse:
    data = _form(ScanRename, label=label)
    svc.rename_scan(session, project_id=project_id, scan_id=scan_id, label=data.label)
    return RedirectResponse(f"/projects/{project_id}/scans/{scan_id}", status_code=303)
