"""Whose verdicts count: set one response's verdict by hand, choose the file's verdicts.

Both change data, so the access rules ask the editor role (viewers get 403); the pages show
the controls only to editors and owners.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from app.deps import PathId, SessionDep
from app.schemas.verdicts import HumanVerdictSet, VerdictRead, VerdictsFromRead, VerdictsFromSet
from app.security.access import current_principal
from app.security.guards import ProjectId
from app.services import verdicts as svc
from app.services.errors import BadInput

router = APIRouter()
API = "/api/v1/projects/{project_id:id}"


def _who(request: Request) -> str:
    user = current_principal(request).user
    return user.username if user is not None else "local user"


def _read(response) -> VerdictRead:  # type: ignore[no-untyped-def]
    return VerdictRead(
        response_id=response.id,
        correct=response.correct,
        verdict_source=response.verdict_source,
        verdict_by=response.verdict_by,
        verdict_at=response.verdict_at,
    )


@router.put(
    API + "/responses/{response_id:id}/verdict", response_model=VerdictRead, tags=["judgements"]
)
def api_set_verdict(
    request: Request,
    project_id: ProjectId,
    response_id: PathId,
    data: HumanVerdictSet,
    session: SessionDep,
) -> VerdictRead:
    """Set a response's verdict by hand: a human verdict (who, when) that every share
    correct, the correctness rule and the exports use from now on."""
    response = svc.set_human_verdict(
        session,
        project_id=project_id,
        response_id=response_id,
        verdict=data.verdict,
        by=_who(request),
    )
    session.commit()
    return _read(response)


@router.put(API + "/verdicts-from", response_model=VerdictsFromRead, tags=["judgements"])
def api_set_verdicts_from(
    project_id: ProjectId, data: VerdictsFromSet, session: SessionDep
) -> VerdictsFromRead:
    """Choose whose verdicts count: Familiar's judge, or the verdicts the files carry."""
    n = svc.set_verdicts_from(session, project_id=project_id, verdicts_from=data.verdicts_from)
    session.commit()
    return VerdictsFromRead(project_id=project_id, verdicts_from=data.verdicts_from, n_settled=n)


@router.post(
    "/projects/{project_id:id}/responses/{response_id:id}/verdict",
    include_in_schema=False,
    response_model=None,
)
def set_verdict_form(
    request: Request,
    project_id: ProjectId,
    response_id: PathId,
    session: SessionDep,
    verdict: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> RedirectResponse:
    try:
        data = HumanVerdictSet(verdict=verdict)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise BadInput("verdict must be right, wrong or clear") from exc
    svc.set_human_verdict(
        session,
        project_id=project_id,
        response_id=response_id,
        verdict=data.verdict,
        by=_who(request),
    )
    session.commit()
    return RedirectResponse(_back(project_id, back, "judgements"), status_code=303)


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
