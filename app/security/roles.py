"""Project roles: owner (members, deletion, share links), editor (upload, scan, rename,
delete strategies and scans), viewer (read only). Admins act as owners of every project;
single mode (one local user) is the owner of everything and checks nothing."""

from __future__ import annotations

import re
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Project, ProjectMember, User
from app.schemas.accounts import MemberList, MemberRead, UserRead
from app.security.csrf import SAFE_METHODS
from app.security.errors import AccessDenied
from app.services.errors import BadInput, Conflict, NotFound

Role = Literal["viewer", "editor", "owner"]
RANK: dict[str, int] = {"viewer": 0, "editor": 1, "owner": 2}
# Decided on a route's path template (`/projects/{project_id}/...`), never on a raw path.
# Owner only, whatever the method: the share pages and links (they list who can read).
OWNER_ALWAYS = re.compile(r"^(?:/api/v1)?/projects/\{project_id\}/share(?:-links)?(?:/|$)")
# Owner only for changes: the project itself (rename, delete) and its members.
OWNER_WRITES = re.compile(
    r"^(?:/api/v1)?/projects/\{project_id\}(?:/delete|/rename|/members(?:/.*)?)?$"
)
# Owner only for changes: the lab's teachers (they hold API keys), its prices and budget (an
# editor who could zero a price could spend past the budget; issue 21).
OWNER_WRITES_LAB = re.compile(
    r"^(?:/api/v1)?/projects/\{project_id\}/lab/(?:teachers|prices|budget)(?:/.*)?$"
)


def required_role(method: str, template: str) -> Role:
    """The role a request needs, from its method and its route's path template."""
    if OWNER_ALWAYS.match(template):
        return "owner"
    if method in SAFE_METHODS:
        return "viewer"
    if OWNER_WRITES.match(template) or OWNER_WRITES_LAB.match(template):
        return "owner"
    return "editor"


def role_of(session: Session, *, user: UserRead, project_id: int) -> Role | None:
    if user.is_admin:
        return "owner"
    row = session.get(ProjectMember, (project_id, user.id))
    return row.role if row is not None else None  # type: ignore[return-value]


def check_project_access(
    session: Session, *, user: UserRead, project_id: int, method: str, path: str
) -> None:
    """Raise AccessDenied unless `user`'s role in the project allows this request (a
    project that does not exist is left to the route's 404)."""
    if session.get(Project, project_id) is None:
        return
    role = role_of(session, user=user, project_id=project_id)
    if role is None:
        raise AccessDenied(
            f"You are not a member of project {project_id}. Ask its owner to add you."
        )
    needed = required_role(method, path)
    if RANK[role] < RANK[needed]:
        what = (
            "read it"
            if role == "viewer"
            else "manage members, share links, deletion or the lab's teachers, prices and budget"
        )
        raise AccessDenied(
            f"You are {'a viewer' if role == 'viewer' else 'an editor'} of project "
            f"{project_id}: you can {what} only with the {needed} role. Ask its owner."
        )


def add_owner(session: Session, *, project_id: int, user_id: int) -> None:
    session.add(ProjectMember(project_id=project_id, user_id=user_id, role="owner"))
    session.flush()


def list_members(session: Session, *, project_id: int, your_role: Role | None) -> MemberList:
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    rows = session.execute(
        select(ProjectMember, User.username)
        .join(User, User.id == ProjectMember.user_id)
        .where(ProjectMember.project_id == project_id)
        .order_by(ProjectMember.created_at, User.username)
    ).all()
    return MemberList(
        project_id=project_id,
        your_role=your_role,
        members=[
            MemberRead(
                user_id=m.user_id,
                username=name,
                role=m.role,  # type: ignore[arg-type]
                created_at=m.created_at,
            )
            for m, name in rows
        ],
    )


def _check_role(role: str) -> Role:
    if role not in RANK:
        raise BadInput(f"unknown role '{role}': choose owner, editor or viewer")
    return role  # type: ignore[return-value]


def add_member(session: Session, *, project_id: int, username: str, role: str) -> MemberRead:
    role = _check_role(role)
    if session.get(Project, project_id) is None:
        raise NotFound(f"project {project_id} not found")
    user = session.scalars(select(User).where(User.username == username.strip())).first()
    if user is None:
        raise NotFound(f"no user '{username.strip()}'")
    if session.get(ProjectMember, (project_id, user.id)) is not None:
        raise Conflict(f"'{user.username}' is already a member; change the role instead")
    row = ProjectMember(project_id=project_id, user_id=user.id, role=role)
    session.add(row)
    session.flush()
    return MemberRead(user_id=user.id, username=user.username, role=role, created_at=row.created_at)


def _member(session: Session, project_id: int, user_id: int) -> ProjectMember:
    row = session.get(ProjectMember, (project_id, user_id))
    if row is None:
        raise NotFound(f"user {user_id} is not a member of project {project_id}")
    return row


def _keep_an_owner(session: Session, row: ProjectMember) -> None:
    owners = session.scalar(
        select(func.count()).where(
            ProjectMember.project_id == row.project_id, ProjectMember.role == "owner"
        )
    )
    if row.role == "owner" and (owners or 0) <= 1:
        raise Conflict("a project keeps at least one owner: make somebody else owner first")


def set_role(session: Session, *, project_id: int, user_id: int, role: str) -> MemberRead:
    role = _check_role(role)
    row = _member(session, project_id, user_id)
    if role != "owner":
        _keep_an_owner(session, row)
    row.role = role
    session.flush()
    user = session.get(User, user_id)
    return MemberRead(
        user_id=user_id,
        username=user.username if user else "?",
        role=role,
        created_at=row.created_at,
    )


def remove_member(session: Session, *, project_id: int, user_id: int) -> None:
    row = _member(session, project_id, user_id)
    _keep_an_owner(session, row)
    session.delete(row)
    session.flush()


def visible_project_ids(session: Session, *, user: UserRead) -> list[int]:
    """The projects a non-admin user is a member of."""
    return list(
        session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_id == user.id))
    )
