"""Studies across projects: list, create/edit, the study page, exports, share links; each
page next to its JSON twin under /api/v1/studies."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from app.deps import PathId, SessionDep
from app.routes.exports import download
from app.routes.share import NO_LEAK, _base_url, _user_id, reach_note
from app.schemas.accounts import (
    ShareLinkCreated,
    ShareLinkList,
    ShareLinkRead,
    StudyShareLinkCreate,
)
from app.schemas.studies import StudyCreate, StudyForm, StudyList, StudyPage, StudyRead, StudyUpdate
from app.security import share_links as links
from app.security.access import member_filter
from app.security.guards import StudyId
from app.security.study_access import member_project_ids
from app.services.errors import BadInput
from app.services.results.exports import Download
from app.services.studies import crud, exports
from app.services.studies.page import get_study_page, parse_thresholds
from app.specs.forms import FormState
from app.web import is_htmx, render

router = APIRouter()
FormValues = dict[str, list[str]]


def _allowed(request: Request, session: SessionDep) -> set[int] | None:
    """The projects this user may put in a study or see in one (None: every project)."""
    return member_project_ids(session, member_filter(request))


def _errors(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}" for e in exc.errors())


# --- list and create ---------------------------------------------------------------------


@router.get("/api/v1/studies", response_model=StudyList, tags=["studies"])
def api_list_studies(request: Request, session: SessionDep) -> StudyList:
    return crud.list_studies(session, allowed=_allowed(request, session))


@router.post("/api/v1/studies", response_model=StudyRead, status_code=201, tags=["studies"])
def api_create_study(request: Request, data: StudyCreate, session: SessionDep) -> StudyRead:
    study = crud.create_study(
        session, data=data, created_by_id=_user_id(request), allowed=_allowed(request, session)
    )
    session.commit()
    return crud.study_read(session, study)


@router.get("/studies", response_class=HTMLResponse, include_in_schema=False)
def studies_page(request: Request, session: SessionDep) -> HTMLResponse:
    page = crud.list_studies(session, allowed=_allowed(request, session))
    return render(request, "pages/studies/index.html", {"page": page}, json_url="/api/v1/studies")


@router.get("/api/v1/studies/new", response_model=StudyForm, tags=["studies"])
def api_new_study_form(request: Request, session: SessionDep) -> StudyForm:
    """What the create form offers: every project, with its accuracies and metrics."""
    return crud.study_form(session, allowed=_allowed(request, session))


@router.get("/studies/new", response_class=HTMLResponse, include_in_schema=False)
def new_study_page(request: Request, session: SessionDep) -> HTMLResponse:
    return _form_page(request, crud.study_form(session, allowed=_allowed(request, session)), None)


def _form_page(request: Request, form: StudyForm, state: FormState | None) -> HTMLResponse:
    """The form; a refused one (422) as it was sent, each reason next to its field."""
    url = f"/api/v1/studies/{form.study.id}/edit" if form.study else "/api/v1/studies/new"
    return render(
        request,
        "pages/studies/form.html",
        {"page": form, "study_form": state},
        status_code=422 if state else 200,
        json_url=url,
    )


def _typed(name: str, description: str, thresholds: str, ids: list[int] | None) -> FormValues:
    return {
        "name": [name],
        "description": [description],
        "thresholds": [thresholds],
        "project_ids": [str(i) for i in ids or []],
    }


def _form_fields(
    name: str, description: str, thresholds: str, project_ids: list[int]
) -> dict[str, object]:
    cuts = parse_thresholds(thresholds) or []  # an emptied field: no restricted rows
    return {
        "name": name,
        "description": description,
        "project_ids": project_ids,
        "thresholds": cuts,
    }


FormStr = Annotated[str, Form()]
FormIds = Annotated[list[int] | None, Form()]


@router.post("/studies", include_in_schema=False, response_model=None)
def create_study_form(
    request: Request,
    session: SessionDep,
    name: FormStr = "",
    description: FormStr = "",
    thresholds: FormStr = "",
    project_ids: FormIds = None,
) -> HTMLResponse | RedirectResponse:
    values = _typed(name, description, thresholds, project_ids)
    try:
        data = StudyCreate(**_form_fields(name, description, thresholds, project_ids or []))  # type: ignore[arg-type]
        study = crud.create_study(
            session, data=data, created_by_id=_user_id(request), allowed=_allowed(request, session)
        )
    except (ValidationError, BadInput) as exc:
        session.rollback()
        return _form_page(
            request,
            _reselected(crud.study_form(session, allowed=_allowed(request, session)), project_ids),
            FormState.refused(exc, values),
        )
    session.commit()
    return RedirectResponse(f"/studies/{study.id}", status_code=303)


def _reselected(form: StudyForm, ids: list[int] | None) -> StudyForm:
    chosen = set(ids or [])
    return form.model_copy(
        update={
            "projects": [p.model_copy(update={"selected": p.id in chosen}) for p in form.projects]
        }
    )


# --- one study ---------------------------------------------------------------------------


@router.get("/api/v1/studies/{study_id:id}", response_model=StudyPage, tags=["studies"])
def api_study_page(
    study_id: StudyId, session: SessionDep, thresholds: str | None = None
) -> StudyPage:
    """Every number of the study; ``?thresholds=2,4`` overrides the study's spreads."""
    return get_study_page(session, study_id=study_id, thresholds=thresholds)


@router.get("/studies/{study_id:id}", response_class=HTMLResponse, include_in_schema=False)
def study_page(
    request: Request, study_id: StudyId, session: SessionDep, thresholds: str | None = None
) -> HTMLResponse:
    page = get_study_page(session, study_id=study_id, thresholds=thresholds)
    query = f"?thresholds={thresholds}" if thresholds else ""
    return render(
        request,
        "pages/studies/show.html",
        {"page": page, "query": query},
        json_url=f"/api/v1/studies/{study_id}{query}",
    )


@router.patch("/api/v1/studies/{study_id:id}", response_model=StudyRead, tags=["studies"])
def api_update_study(
    request: Request, study_id: StudyId, data: StudyUpdate, session: SessionDep
) -> StudyRead:
    study = crud.update_study(
        session, study_id=study_id, data=data, allowed=_allowed(request, session)
    )
    session.commit()
    return crud.study_read(session, study)


@router.delete("/api/v1/studies/{study_id:id}", status_code=204, tags=["studies"])
def api_delete_study(study_id: StudyId, session: SessionDep) -> Response:
    """Delete the study (never its projects)."""
    crud.delete_study(session, study_id=study_id)
    session.commit()
    return Response(status_code=204)


@router.get("/api/v1/studies/{study_id:id}/edit", response_model=StudyForm, tags=["studies"])
def api_edit_study_form(request: Request, study_id: StudyId, session: SessionDep) -> StudyForm:
    return crud.study_form(session, study_id=study_id, allowed=_allowed(request, session))


@router.get("/studies/{study_id:id}/edit", response_class=HTMLResponse, include_in_schema=False)
def edit_study_page(request: Request, study_id: StudyId, session: SessionDep) -> HTMLResponse:
    return _form_page(
        request,
        crud.study_form(session, study_id=study_id, allowed=_allowed(request, session)),
        None,
    )


@router.post("/studies/{study_id:id}/edit", include_in_schema=False, response_model=None)
def edit_study_form(
    request: Request,
    study_id: StudyId,
    session: SessionDep,
    name: FormStr = "",
    description: FormStr = "",
    thresholds: FormStr = "",
    project_ids: FormIds = None,
) -> HTMLResponse | RedirectResponse:
    values = _typed(name, description, thresholds, project_ids)
    try:
        fields = _form_fields(name, description, thresholds, project_ids or [])
        data = StudyUpdate(**fields)  # type: ignore[arg-type]
        if not name.strip():
            raise BadInput("name: a name is required", field="name")
        crud.update_study(session, study_id=study_id, data=data, allowed=_allowed(request, session))
    except (ValidationError, BadInput) as exc:
        session.rollback()
        form = _reselected(
            crud.study_form(session, study_id=study_id, allowed=_allowed(request, session)),
            project_ids,
        )
        return _form_page(request, form, FormState.refused(exc, values))
    session.commit()
    return RedirectResponse(f"/studies/{study_id}", status_code=303)


@router.post("/studies/{study_id:id}/delete", include_in_schema=False)
def delete_study_form(study_id: StudyId, session: SessionDep) -> RedirectResponse:
    crud.delete_study(session, study_id=study_id)
    session.commit()
    return RedirectResponse("/studies", status_code=303)


# --- exports -----------------------------------------------------------------------------


def _download(d: Download) -> Response:
    return download(d.filename, d.media_type, str(d.body))


@router.get("/api/v1/studies/{study_id:id}/study.json", tags=["exports"])
def export_study_json(
    study_id: StudyId, session: SessionDep, thresholds: str | None = None
) -> Response:
    """The whole study page JSON, as a file."""
    return _download(exports.study_json(session, study_id=study_id, thresholds=thresholds))


@router.get("/api/v1/studies/{study_id:id}/summary.csv", tags=["exports"])
def export_summary_csv(
    study_id: StudyId, session: SessionDep, thresholds: str | None = None
) -> Response:
    """Per metric and spread threshold: pick, oracle, random, correlations."""
    return _download(exports.summary_csv(session, study_id=study_id, thresholds=thresholds))


@router.get("/api/v1/studies/{study_id:id}/projects.csv", tags=["exports"])
def export_projects_csv(
    study_id: StudyId, session: SessionDep, thresholds: str | None = None
) -> Response:
    """Per project and metric: every number behind the summary."""
    return _download(exports.projects_csv(session, study_id=study_id, thresholds=thresholds))


# --- share links -------------------------------------------------------------------------


@router.post(
    "/api/v1/studies/{study_id:id}/share-links",
    response_model=ShareLinkCreated,
    status_code=201,
    tags=["sharing"],
)
def api_create_study_link(
    request: Request, study_id: StudyId, data: StudyShareLinkCreate, session: SessionDep
) -> ShareLinkCreated:
    """A read-only link to the study page, its twin and exports (not to its projects)."""
    created = links.create_study_share_link(
        session,
        study_id=study_id,
        data=data,
        created_by_id=_user_id(request),
        base_url=_base_url(request),
    )
    session.commit()
    return created


@router.get(
    "/api/v1/studies/{study_id:id}/share-links", response_model=ShareLinkList, tags=["sharing"]
)
def api_list_study_links(study_id: StudyId, session: SessionDep) -> ShareLinkList:
    return links.list_study_share_links(session, study_id=study_id)


@router.delete(
    "/api/v1/studies/{study_id:id}/share-links/{link_id:id}",
    response_model=ShareLinkRead,
    tags=["sharing"],
)
def api_revoke_study_link(study_id: StudyId, link_id: PathId, session: SessionDep) -> ShareLinkRead:
    revoked = links.revoke_study_share_link(session, study_id=study_id, link_id=link_id)
    session.commit()
    return revoked


def _share_page(
    request: Request, session: SessionDep, study_id: int, created: ShareLinkCreated | None = None
) -> HTMLResponse:
    context = {
        "study": crud.study_read(session, crud.get_study_row(session, study_id=study_id)),
        "links": links.list_study_share_links(session, study_id=study_id).links,
        "created": created,
        "reach": reach_note(),
    }
    response = render(
        request,
        "pages/studies/share.html",
        context,
        partial="partials/share/_links.html",
        json_url=f"/api/v1/studies/{study_id}/share-links",
    )
    if created is not None:
        response.headers.update(NO_LEAK)
    return response


@router.get("/studies/{study_id:id}/share", response_class=HTMLResponse, include_in_schema=False)
def study_share_page(request: Request, study_id: StudyId, session: SessionDep) -> HTMLResponse:
    return _share_page(request, session, study_id)


@router.post("/studies/{study_id:id}/share", response_class=HTMLResponse, include_in_schema=False)
def create_study_link_form(
    request: Request,
    study_id: StudyId,
    session: SessionDep,
    label: FormStr = "",
    expires_in_days: FormStr = "",
) -> HTMLResponse:
    try:
        days = float(expires_in_days) if expires_in_days.strip() else None
        data = StudyShareLinkCreate(label=label, expires_in_days=days)
    except ValueError as exc:
        raise BadInput(_errors(exc) if isinstance(exc, ValidationError) else str(exc)) from exc
    created = links.create_study_share_link(
        session,
        study_id=study_id,
        data=data,
        created_by_id=_user_id(request),
        base_url=_base_url(request),
    )
    session.commit()
    return _share_page(request, session, study_id, created)


@router.post(
    "/studies/{study_id:id}/share/{link_id:id}/revoke", include_in_schema=False, response_model=None
)
def revoke_study_link_form(
    request: Request, study_id: StudyId, link_id: PathId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    links.revoke_study_share_link(session, study_id=study_id, link_id=link_id)
    session.commit()
    if is_htmx(request):
        return _share_page(request, session, study_id)
    return RedirectResponse(f"/studies/{study_id}/share", status_code=303)
