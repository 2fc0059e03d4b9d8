"""Project members and their roles: the members page, its forms and the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlalchemy.orm import Session

from app.deps import PathId, SessionDep
from app.schemas.accounts import MemberAdd, MemberList, MemberRead, MemberUpdate
from app.security import roles
from app.security.access import project_role
from app.security.guards import ProjectId
from app.security.modes import auth_mode
from app.services.errors import BadInput, Conflict, NotFound
from app.services.projects import get_project_row, project_read
from app.web import render

router = APIRouter()
API = "/api/v1/projects/{project_id:id}/members"
Text = Annotated[str, Form(max_length=200)]


def _list(request: Request, session: Session, project_id: int) -> MemberList:
    your = project_role(request, session, project_id)
    return roles.list_members(session, project_id=project_id, your_role=your)  # type: ignore[arg-type]


@router.get(API, response_model=MemberList, tags=["members"])
def api_list_members(request: Request, project_id: ProjectId, session: SessionDep) -> MemberList:
    """Who may read (viewer), change (editor) and manage (owner) the project."""
    return _list(request, session, project_id)


@router.post(API, response_model=MemberRead, status_code=201, tags=["members"])
def api_add_member(project_id: ProjectId, data: MemberAdd, session: SessionDep) -> MemberRead:
    """Owners: add a user by name with a role (409 if already a member)."""
    added = roles.add_member(session, project_id=project_id, username=data.username, role=data.role)
    session.commit()
    return added


@router.patch(API + "/{user_id:id}", response_model=MemberRead, tags=["members"])
def api_set_role(
    project_id: ProjectId, user_id: PathId, data: MemberUpdate, session: SessionDep
) -> MemberRead:
    """Owners: change a member's role (409 would leave the project without an owner)."""
    changed = roles.set_role(session, project_id=project_id, user_id=user_id, role=data.role)
    session.commit()
    return changed


@router.delete(API + "/{user_id:id}", status_code=204, tags=["members"])
def api_remove_member(project_id: ProjectId, user_id: PathId, session: SessionDep) -> Response:
    roles.remove_member(session, project_id=project_id, user_id=user_id)
    session.commit()
    return Response(status_code=204)


def _page(
    request: Request,
    session: Session,
    project_id: int,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    ctx: dict[str, Any] = {
        "project": project_read(session, get_project_row(session, project_id=project_id)),
        "page": _list(request, session, project_id),
        "error": error,
        "single": auth_mode() == "single",
    }
    return render(
        request,
        "pages/projects/members.html",
        ctx,
        status_code=status_code,
        json_url=f"/api/v1/projects/{project_id}/members",
    )


@router.get(
    "/projects/{project_id:id}/members", response_class=HTMLResponse, include_in_schema=False
)
def members_page(request: Request, project_id: ProjectId, session: SessionDep) -> HTMLResponse:
    return _page(request, session, project_id)


def _after(request: Request, session: Session, project_id: int, action) -> Response:  # type: ignore[no-untyped-def]
    try:
        action()
    except (BadInput, Conflict, NotFound) as exc:
        session.rollback()
        return _page(request, session, project_id, error=str(exc), status_code=422)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/members", status_code=303)


@router.post("/projects/{project_id:id}/members", include_in_schema=False, response_model=None)
def add_member_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    username: Text = "",
    role: Text = "viewer",
) -> Response:
    return _after(
        request,
        session,
        project_id,
        lambda: roles.add_member(session, project_id=project_id, username=username, role=role),
    )


@router.post(
    "/projects/{project_id:id}/members/{user_id:id}/role",
    include_in_schema=False,
    response_model=None,
)
def set_role_form(
    request: Request, project_id: ProjectId, user_id: PathId, session: SessionDep, role: Text = ""
) -> Response:
    return _after(
        request,
        session,
        project_id,
        lambda: roles.set_role(session, project_id=project_id, user_id=user_id, role=role),
    )


@router.post(
    "/projects/{project_id:id}/members/{user_id:id}/remove",
    include_in_schema=False,
    response_model=None,
)
def remove_member_form(
    request: Request, project_id: ProjectId, user_id: PathId, session: SessionDep
) -> Response:
    return _after(
        request,
        session,
        project_id,
        lambda: roles.remove_member(session, project_id=project_id, user_id=user_id),
    )
