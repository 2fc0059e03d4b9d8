"""Who may read or change a study (accounts mode; single mode and admins: anyone).

A study shows numbers from each of its projects, so reading one needs membership of every
project in it; changing it (edit, delete, share links) is for its creator or an admin.
Projects a user is not a member of can be neither added to a study nor listed in its form.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ProjectMember, Study, StudyProject
from app.schemas.accounts import UserRead
from app.security.csrf import SAFE_METHODS
from app.security.errors import AccessDenied


def member_project_ids(session: Session, user: UserRead | None) -> set[int] | None:
    """The projects `user` may read; None: every project (no account filter applies)."""
    if user is None or user.is_admin:
        return None
    return set(
        session.scalars(select(ProjectMember.project_id).where(ProjectMember.user_id == user.id))
    )


def check_study_access(
    session: Session, *, user: UserRead, study_id: int, method: str, manage: bool = False
) -> None:
    """Raise AccessDenied unless `user` may make this request of the study (a study that
    does not exist is left to the route's 404). `manage`: a page for the study's creator
    (its edit form, its share links), also to read."""
    study = session.get(Study, study_id)
    if study is None or user.is_admin:
        return
    if manage or method not in SAFE_METHODS:
        if study.created_by_id != user.id:
            raise AccessDenied(f"Only the creator of study {study_id} or an admin can change it.")
        return
    allowed = member_project_ids(session, user) or set()
    ids = set(
        session.scalars(select(StudyProject.project_id).where(StudyProject.study_id == study_id))
    )
    if not ids <= allowed:
        raise AccessDenied(
            f"Study {study_id} includes projects you are not a member of; ask their owners."
        )
