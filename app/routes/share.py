"""Share links: open one (/s/{token}), the share page of a project, and the JSON API."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.config import get_settings
from app.deps import PathId, SessionDep
from app.ids import MAX_ID
from app.schemas.accounts import ShareLinkCreate, ShareLinkCreated, ShareLinkList, ShareLinkRead
from app.security import sessions
from app.security import share_links as svc
from app.security.access import current_principal
from app.security.errors import AccessDenied
from app.security.guards import ProjectId
from app.security.modes import is_loopback
from app.services.errors import BadInput
from app.services.projects import get_project_row, project_read
from app.services.scans import list_scans
from app.web import is_htmx, render

router = APIRouter()
NO_LEAK = {"Referrer-Policy": "no-referrer", "Cache-Control": "no-store"}


def _base_url(request: Request) -> str:
    return get_settings().public_url or str(request.base_url)


def _user_id(request: Request) -> int | None:
    user = current_principal(request).user
    return user.id if user else None


@router.get("/s/{token}", include_in_schema=False)
def open_link(request: Request, token: str, session: SessionDep) -> RedirectResponse:
    """Check the link, remember the read grant in the session, go to the shared page."""
    try:
        link = svc.open_share_link(session, token=token)
    except svc.LinkUnusable as exc:
        raise AccessDenied(str(exc), kind=exc.status) from exc
    session.commit()
    sessions.add_grant(request, link.id)
    return RedirectResponse(link.path, status_code=303, headers=NO_LEAK)


@router.post(
    "/api/v1/projects/{project_id:id}/share-links",
    response_model=ShareLinkCreated,
    status_code=201,
    tags=["sharing"],
)
def api_create_link(
    request: Request, project_id: ProjectId, data: ShareLinkCreate, session: SessionDep
) -> ShareLinkCreated:
    """A read-only link to the project (or one scan); `token` and `url` are shown only now."""
    created = svc.create_share_link(
        session,
        project_id=project_id,
        data=data,
        created_by_id=_user_id(request),
        base_url=_base_url(request),
    )
    session.commit()
    return created


@router.get(
    "/api/v1/projects/{project_id:id}/share-links", response_model=ShareLinkList, tags=["sharing"]
)
def api_list_links(project_id: ProjectId, session: SessionDep) -> ShareLinkList:
    return svc.list_share_links(session, project_id=project_id)


@router.delete(
    "/api/v1/projects/{project_id:id}/share-links/{link_id:id}",
    response_model=ShareLinkRead,
    tags=["sharing"],
)
def api_revoke_link(project_id: ProjectId, link_id: PathId, session: SessionDep) -> ShareLinkRead:
    """Revoke a link: it and every grant it gave stop working at once."""
    revoked = svc.revoke_share_link(session, project_id=project_id, link_id=link_id)
    session.commit()
    return revoked


def _context(
    session: Session, project_id: int, created: ShareLinkCreated | None, scan: int | None = None
) -> dict[str, Any]:
    project = project_read(session, get_project_row(session, project_id=project_id))
    return {
        "project": project,
        "links": svc.list_share_links(session, project_id=project_id).links,
        "scans": list_scans(session, project_id=project_id).scans,
        "created": created,
        "reach": reach_note(),
        "preselect": scan,
    }


def reach_note() -> str | None:
    """Why nobody else can open a link from this server, and how to serve for a team."""
    settings = get_settings()
    if settings.public_url or not is_loopback(settings.host):
        return None
    return (
        f"This server listens on {settings.host} only, so nobody else can open these links: "
        "they work on this machine alone. To share with a team, serve Familiar on an "
        "address others can reach, with accounts (HOST=0.0.0.0 familiar serve, then "
        "familiar create-user NAME), or behind a proxy with PUBLIC_URL set; see the README, "
        '"For a team".'
    )


def _render(
    request: Request,
    session: Session,
    project_id: int,
    created: ShareLinkCreated | None = None,
    scan: int | None = None,
) -> HTMLResponse:
    response = render(
        request,
        "pages/share/index.html",
        _context(session, project_id, created, scan),
        partial="partials/share/_links.html",
        json_url=f"/api/v1/projects/{project_id}/share-links",
    )
    if created is not None:
        response.headers.update(NO_LEAK)  # the new link's token is on this page, once
    return response


@router.get("/projects/{project_id:id}/share", response_class=HTMLResponse, include_in_schema=False)
def share_page(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    scan: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    """The share page; ``?scan=`` preselects that scan for a new link."""
    return _render(request, session, project_id, scan=scan)


def _form_data(label: str, scan_id: str, expires_in_days: str) -> ShareLinkCreate:
    try:
        return ShareLinkCreate(
            label=label,
            scan_id=int(scan_id) if scan_id.strip() else None,
            expires_in_days=float(expires_in_days) if expires_in_days.strip() else None,
        )
    except ValueError as exc:  # ValidationError is a ValueError too
        if isinstance(exc, ValidationError):
            raise BadInput("; ".join(e["msg"] for e in exc.errors())) from exc
        raise BadInput(f"not a number: {exc}") from exc


@router.post(
    "/projects/{project_id:id}/share", response_class=HTMLResponse, include_in_schema=False
)
def create_link_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    label: Annotated[str, Form()] = "",
    scan_id: Annotated[str, Form()] = "",
    expires_in_days: Annotated[str, Form()] = "",
) -> HTMLResponse:
    created = svc.create_share_link(
        session,
        project_id=project_id,
        data=_form_data(label, scan_id, expires_in_days),
        created_by_id=_user_id(request),
        base_url=_base_url(request),
    )
    session.commit()
    return _render(request, session, project_id, created)


@router.post(
    "/projects/{project_id:id}/share/{link_id:id}/revoke",
    include_in_schema=False,
    response_model=None,
)
def revoke_link_form(
    request: Request, project_id: ProjectId, link_id: PathId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    svc.revoke_share_link(session, project_id=project_id, link_id=link_id)
    session.commit()
    if is_htmx(request):
        return _render(request, session, project_id)
    return RedirectResponse(f"/projects/{project_id}/share", status_code=303)
