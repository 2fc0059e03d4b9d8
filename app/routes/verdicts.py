"""Whose verdicts count: set one response's verdict by hand, choose the file's verdicts.

Both change data, so the access rules ask the editor role (viewers get 403); the pages show
the controls only to editors and owners.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form
from fastapi.responses import RedirectResponse

from app.deps import SessionDep
from app.schemas.verdicts import VerdictsFromRead, VerdictsFromSet
from app.security.guards import ProjectId
from app.services import verdicts as svc

router = APIRouter()
API = "/api/v1/projects/{project_id:id}"


@router.put(API + "/verdicts-from", response_model=VerdictsFromRead, tags=["judgements"])
def api_set_verdicts_from(
    project_id: ProjectId, data: VerdictsFromSet, session: SessionDep
) -> VerdictsFromRead:
    """Choose whose verdicts count: Familiar's judge, or the verdicts the files carry."""
    n = svc.set_verdicts_from(session, project_id=project_id, verdicts_from=data.verdicts_from)
    session.commit()
    return VerdictsFromRead(project_id=project_id, verdicts_from=data.verdicts_from, n_settled=n)


@router.post(
    "/projects/{project_id:id}/verdicts-from", include_in_schema=False, response_model=None
)
def set_verdicts_from_form(
    project_id: ProjectId,
    session: SessionDep,
    verdicts_from: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> RedirectResponse:
    svc.set_verdicts_from(session, project_id=project_id, verdicts_from=verdicts_from)
    session.commit()
    return RedirectResponse(_back(project_id, back, "judgements"), status_code=303)


def _back(project_id: int, back: str, default: str) -> str:
    """Where a form returns: a page of the same project, never another site."""
    prefix = f"/projects/{project_id}/"
    if back.startswith(prefix) and "//" not in back and "\\" not in back:
        return back
    return prefix + default
