"""The project, job or study a route touches: parsed once, checked once, then handed over.

A route never reads `project_id`, `job_id` or `study_id` from its path itself: it declares
`project_id: ProjectId` (or `JobId`, `StudyId`), and FastAPI hands it the id only after the
dependency below has checked the request's principal against that very id (issue 18: the
rule once re-parsed the raw path and skipped ids spelled `+2` that the route still read as
2). What a request needs is decided by the route's path template (never the raw path) and
its method; tests/app/test_access_matrix.py walks every route and fails for one that takes
such an id without its guard.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.routing import APIRoute
from sqlalchemy.orm import Session

from app.deps import SessionDep
from app.models import Job, Scan
from app.security.access import Principal, current_principal
from app.security.csrf import SAFE_METHODS
from app.security.errors import AccessDenied, AuthRequired
from app.security.roles import check_project_access
from app.security.share_links import LinkUnusable, grant_status
from app.security.study_access import check_study_access

# Share management needs a signed-in owner, also to read.
SHARE_MANAGEMENT = re.compile(r"^(?:/api/v1)?/(?:projects|studies)/\{\w+\}/share(?:-links)?(?:/|$)")
# What a study link opens: the study page, its twin and its exports; nothing else.
STUDY_LINK_READS = re.compile(
    r"^(?:/api/v1)?/studies/\{study_id\}(?:/(?:study\.json|summary\.csv|projects\.csv))?$"
)
# Reading these is for the study's creator or an admin: the edit form lists projects to
# add, the share page lists who holds links.
STUDY_MANAGEMENT = re.compile(r"^(?:/api/v1)?/studies/\{study_id\}/(?:edit|share(?:-links)?)")

ID = Path(description="An id: digits only, 1 to 2^31-1")


def route_template(request: Request) -> str:
    """The matched route's path as declared (`/projects/{project_id}/...`), never the raw
    path a client sent."""
    route = request.scope.get("route")
    return route.path_format if isinstance(route, APIRoute) else request.url.path


def _path_ids(request: Request) -> dict[str, int]:
    return {k: v for k, v in request.path_params.items() if isinstance(v, int)}


def _anonymous_reads_only(request: Request, principal: Principal) -> None:
    if request.method in SAFE_METHODS:
        return
    if principal.grants:
        raise AuthRequired("Share links are read-only: sign in to change anything.")
    raise AuthRequired()


def check_project_request(request: Request, session: Session, project_id: int) -> None:
    """Raise unless the request's principal may make this request of the project."""
    principal = current_principal(request)
    template = route_template(request)
    if principal.mode == "single":
        return
    if principal.user is not None:
        check_project_access(
            session,
            user=principal.user,
            project_id=project_id,
            method=request.method,
            path=template,
        )
        return
    _anonymous_reads_only(request, principal)
    if SHARE_MANAGEMENT.match(template):
        raise AuthRequired()
    _check_project_link(request, session, principal, project_id, template)


def _check_project_link(
    request: Request, session: Session, principal: Principal, project_id: int, template: str
) -> None:
    status, link = grant_status(
        session,
        link_ids=principal.grants,
        project_id=project_id,
        template=template,
        path_ids=_path_ids(request),
    )
    if status == "active":
        if link is not None and link.scan_id is not None:
            _check_question_in_scan(session, link.scan_id, request.path_params.get("question_id"))
        principal.shared_project_id = project_id
        return
    if status == "elsewhere":
        raise AccessDenied(
            "Your share link opens one scan's result only; the rest of this project is "
            "not shared with you. Sign in, or ask for a link to the project."
        )
    if status is not None:
        raise AccessDenied(str(LinkUnusable(status)), kind=status)
    raise AuthRequired()


def _check_question_in_scan(session: Session, scan_id: int, question_id: object) -> None:
    """A scan link opens the questions that scan sampled, not the project's others."""
    if not isinstance(question_id, int):
        return
    scan = session.get(Scan, scan_id)
    sample = {int(q) for q in ((scan.summary or {}).get("sample") or [])} if scan else set()
    if question_id not in sample:
        raise AccessDenied(
            f"Your share link opens the questions of scan {scan_id}; question {question_id} "
            "is not one of them."
        )


def project_in_reach(request: Request, project_id: Annotated[int, ID], session: SessionDep) -> int:
    check_project_request(request, session, project_id)
    return project_id


def job_in_reach(request: Request, job_id: Annotated[int, ID], session: SessionDep) -> int:
    """A job is reached through its project's rules; one without a project (none is made
    today) is for signed-in users."""
    job = session.get(Job, job_id)
    if job is not None and job.project_id is not None:
        check_project_request(request, session, job.project_id)
        return job_id
    principal = current_principal(request)
    if principal.mode == "accounts" and principal.user is None:
        _anonymous_reads_only(request, principal)
        raise AuthRequired()
    return job_id


def study_in_reach(request: Request, study_id: Annotated[int, ID], session: SessionDep) -> int:
    principal = current_principal(request)
    template = route_template(request)
    if principal.mode == "single":
        return study_id
    if principal.user is not None:
        check_study_access(
            session,
            user=principal.user,
            study_id=study_id,
            method=request.method,
            manage=STUDY_MANAGEMENT.match(template) is not None,
        )
        return study_id
    _anonymous_reads_only(request, principal)
    if not STUDY_LINK_READS.match(template):
        raise AuthRequired()
    status, _ = grant_status(session, link_ids=principal.grants, study_id=study_id)
    if status == "active":
        principal.shared_study_id = study_id
        return study_id
    if status is not None and status != "elsewhere":
        raise AccessDenied(str(LinkUnusable(status)), kind=status)
    raise AuthRequired()


ProjectId = Annotated[int, Depends(project_in_reach)]
JobId = Annotated[int, Depends(job_in_reach)]
StudyId = Annotated[int, Depends(study_in_reach)]
GUARDS = (project_in_reach, job_in_reach, study_in_reach)
