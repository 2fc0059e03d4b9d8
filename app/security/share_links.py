"""Share links: create, list, revoke, open, and check a session's grant on every request."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ShareLink, User
from app.schemas.accounts import (
    LinkStatus,
    ShareLinkCreate,
    ShareLinkCreated,
    ShareLinkList,
    ShareLinkRead,
    StudyShareLinkCreate,
)
from app.security.tokens import hash_token, new_token
from app.services.errors import NotFound
from app.services.projects import get_project_row
from app.services.scans import get_scan_row
from app.services.studies.crud import get_study_row


class LinkUnusable(Exception):
    """A share link that exists but was revoked or has expired."""

    def __init__(self, status: LinkStatus) -> None:
        self.status = status
        super().__init__(
            f"This share link {'was revoked' if status == 'revoked' else 'has expired'}."
        )


def link_status(link: ShareLink, now: datetime | None = None) -> LinkStatus:
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at is not None and link.expires_at <= (now or datetime.now(UTC)):
        return "expired"
    return "active"


def link_path(link: ShareLink) -> str:
    if link.study_id is not None:
        return f"/studies/{link.study_id}"
    base = f"/projects/{link.project_id}"
    return f"{base}/scans/{link.scan_id}" if link.scan_id else base


def share_link_read(session: Session, link: ShareLink) -> ShareLinkRead:
    creator = session.get(User, link.created_by_id) if link.created_by_id else None
    return ShareLinkRead(
        id=link.id,
        project_id=link.project_id,
        scan_id=link.scan_id,
        study_id=link.study_id,
        label=link.label,
        path=link_path(link),
        status=link_status(link),
        created_by=creator.username if creator else None,
        created_at=link.created_at,
        expires_at=link.expires_at,
        revoked_at=link.revoked_at,
        last_opened_at=link.last_opened_at,
    )


def create_share_link(
    session: Session,
    *,
    project_id: int,
    data: ShareLinkCreate,
    created_by_id: int | None,
    base_url: str,
) -> ShareLinkCreated:
    """A new link; its token is in the answer once and only its hash is stored."""
    get_project_row(session, project_id=project_id)
    if data.scan_id is not None:
        get_scan_row(session, project_id=project_id, scan_id=data.scan_id)
    return _new_link(
        session,
        ShareLink(project_id=project_id, scan_id=data.scan_id),
        data.label,
        data.expires_in_days,
        created_by_id,
        base_url,
    )


def _new_link(
    session: Session,
    link: ShareLink,
    label: str,
    expires_in_days: float | None,
    created_by_id: int | None,
    base_url: str,
) -> ShareLinkCreated:
    token = new_token()
    link.token_hash = hash_token(token)
    link.label = label.strip()
    link.created_by_id = created_by_id
    if expires_in_days is not None:
        link.expires_at = datetime.now(UTC) + timedelta(days=expires_in_days)
    session.add(link)
    session.flush()
    read = share_link_read(session, link)
    url = f"{base_url.rstrip('/')}/s/{token}"
    return ShareLinkCreated(**read.model_dump(), url=url, token=token)


# Study links (issue 13): the same tokens and grants, opening /studies/{id} and its twins.


def create_study_share_link(
    session: Session,
    *,
    study_id: int,
    data: StudyShareLinkCreate,
    created_by_id: int | None,
    base_url: str,
) -> ShareLinkCreated:
    """A read-only link to a study page (its tables, chart, exports), not to its projects."""
    get_study_row(session, study_id=study_id)
    return _new_link(
        session,
        ShareLink(study_id=study_id),
        data.label,
        data.expires_in_days,
        created_by_id,
        base_url,
    )


def list_study_share_links(session: Session, *, study_id: int) -> ShareLinkList:
    get_study_row(session, study_id=study_id)
    rows = session.scalars(
        select(ShareLink).where(ShareLink.study_id == study_id).order_by(ShareLink.id.desc())
    )
    return ShareLinkList(
        project_id=None, study_id=study_id, links=[share_link_read(session, r) for r in rows]
    )


def revoke_study_share_link(session: Session, *, study_id: int, link_id: int) -> ShareLinkRead:
    link = session.get(ShareLink, link_id)
    if link is None or link.study_id != study_id:
        raise NotFound(f"share link {link_id} not found in study {study_id}")
    link.revoked_at = link.revoked_at or datetime.now(UTC)
    session.flush()
    return share_link_read(session, link)


def list_share_links(session: Session, *, project_id: int) -> ShareLinkList:
    get_project_row(session, project_id=project_id)
    rows = session.scalars(
        select(ShareLink).where(ShareLink.project_id == project_id).order_by(ShareLink.id.desc())
    )
    return ShareLinkList(project_id=project_id, links=[share_link_read(session, r) for r in rows])


def revoke_share_link(session: Session, *, project_id: int, link_id: int) -> ShareLinkRead:
    link = session.get(ShareLink, link_id)
    if link is None or link.project_id != project_id:
        raise NotFound(f"share link {link_id} not found in project {project_id}")
    link.revoked_at = link.revoked_at or datetime.now(UTC)
    session.flush()
    return share_link_read(session, link)


def open_share_link(session: Session, *, token: str) -> ShareLinkRead:
    """The link a token belongs to, if it still works; records when it was opened."""
    link = session.scalars(
        select(ShareLink).where(ShareLink.token_hash == hash_token(token))
    ).first()
    if link is None:
        raise NotFound("This share link does not exist. Check that it was copied completely.")
    status = link_status(link)
    if status != "active":
        raise LinkUnusable(status)
    link.last_opened_at = datetime.now(UTC)
    return share_link_read(session, link)


SCAN_PAGES = re.compile(r"^(?:/api/v1)?/projects/\{project_id\}/scans/\{scan_id\}(?:[/.]|$)")


def covers(link: ShareLink, template: str, path_ids: dict[str, int]) -> bool:
    """A project link opens every page of its project; a scan link only that scan's pages
    (decided on the route's template and its parsed ids, never on the raw path); a study
    link (no project) is checked by study."""
    if link.scan_id is None:
        return True
    return SCAN_PAGES.match(template) is not None and path_ids.get("scan_id") == link.scan_id


GrantStatus = LinkStatus | Literal["elsewhere"] | None


def grant_status(
    session: Session,
    *,
    link_ids: list[int],
    project_id: int | None = None,
    study_id: int | None = None,
    template: str = "",
    path_ids: dict[str, int] | None = None,
) -> tuple[GrantStatus, ShareLink | None]:
    """Whether the session's links still open this page of `project_id` (or `study_id`):
    active, revoked, expired, `elsewhere` (a scan link, and this page is not that scan's)
    or None; with the link that decided it."""
    if not link_ids:
        return None, None
    column, wanted = (
        (ShareLink.study_id, study_id)
        if study_id is not None
        else (ShareLink.project_id, project_id)
    )
    rows = session.scalars(
        select(ShareLink).where(ShareLink.id.in_(link_ids), column == wanted)
    ).all()
    covering = [r for r in rows if study_id is not None or covers(r, template, path_ids or {})]
    for status in ("active", "revoked", "expired"):
        for link in covering:
            if link_status(link) == status:
                return status, link  # type: ignore[return-value]
    return ("elsewhere" if rows else None), None
