"""Projects: list, create, the project page, and their JSON twins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.deps import SessionDep
from app.schemas.projects import ProjectCreate, ProjectList, ProjectPage, ProjectRead
from app.security.access import acting_user_id, member_filter
from app.security.guards import ProjectId
from app.services import projects as svc
from app.specs.forms import FormState
from app.web import render

router = APIRouter()


@router.get("/api/v1/projects", response_model=ProjectList, tags=["projects"])
def api_list_projects(request: Request, session: SessionDep) -> ProjectList:
    """The projects you may read (every project in single mode and for admins)."""
    return svc.list_projects(session, member_id=_member_id(request))


def _member_id(request: Request) -> int | None:
    user = member_filter(request)
    return user.id if user else None


@router.post("/api/v1/projects", response_model=ProjectRead, status_code=201, tags=["projects"])
def api_create_project(request: Request, data: ProjectCreate, session: SessionDep) -> ProjectRead:
    """A new project; in accounts mode you are its owner."""
    project = svc.create_project(session, data=data, owner_id=acting_user_id(request))
    session.commit()
    return svc.project_read(session, project)


@router.get("/api/v1/projects/{project_id:id}", response_model=ProjectPage, tags=["projects"])
def api_get_project(project_id: ProjectId, session: SessionDep) -> ProjectPage:
    return svc.get_project_page(session, project_id=project_id)


@router.get("/", response_class=HTMLResponse, include_in_schema=False)
def index(request: Request, session: SessionDep) -> HTMLResponse:
    data = svc.list_projects(session, member_id=_member_id(request))
    return render(
        request,
        "pages/projects/index.html",
        {"page": data, "default_model": get_settings().default_model, "errors": None},
        json_url="/api/v1/projects",
    )


@router.post("/projects", include_in_schema=False, response_model=None)
def create_project_form(
    request: Request,
    session: SessionDep,
    name: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    target_model: Annotated[str, Form()] = "",
) -> HTMLResponse | RedirectResponse:
    try:
        data = ProjectCreate(name=name, description=description, target_model=target_model)
    except ValidationError as exc:
        errors = [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        return render(
            request,
            "pages/projects/index.html",
            {
                "page": svc.list_projects(session, member_id=_member_id(request)),
                "errors": errors,
                "default_model": get_settings().default_model,
            },
            status_code=422,
        )
    project = svc.create_project(session, data=data, owner_id=acting_user_id(request))
    session.commit()
    return RedirectResponse(f"/projects/{project.id}", status_code=303)


@router.get("/projects/{project_id:id}", response_class=HTMLResponse, include_in_schema=False)
def project_page(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    return project_page_with_form(request, session, project_id, None)


def project_page_with_form(
    request: Request, session: Session, project_id: int, scan_form: FormState | None
) -> HTMLResponse:
    """The project page; with a refused scan form (422), that form as it was sent."""
    data = svc.get_project_page(session, project_id=project_id)
    return render(
        request,
        "pages/projects/show.html",
        {"page": data, "scan_form": scan_form},
        partial=None if scan_form else "partials/projects/_strategies.html",
        status_code=422 if scan_form else 200,
        json_url=f"/api/v1/projects/{project_id}",
    )
