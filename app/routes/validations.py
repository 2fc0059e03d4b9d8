"""Validation: the project's test set, starting a validation (form and API), the validation
page (polled while it runs), per-question predictions with re-scoring, and downloads."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from app.deps import PathId, SessionDep
from app.ingest.records import UploadError
from app.routes.exports import download
from app.schemas.validations import (
    HoldOut,
    PredictionsPage,
    TestSetRead,
    ValidationPage,
    ValidationRead,
    ValidationsIndex,
)
from app.security.guards import ProjectId
from app.services.errors import BadInput
from app.services.validations import page as svc
from app.services.validations import predictions as preds
from app.services.validations import testsets
from app.services.validations.cancel import cancel_validation
from app.services.validations.start import start_validation
from app.specs.forms import FormState, spec_fields
from app.specs.training import TrainingSettingsError, TrainSettings
from app.specs.validation import ValidationInputError, ValidationSpec
from app.web import is_htmx, render

router = APIRouter()
NameQ = Annotated[str | None, Query(max_length=200, description="Strategy name")]
ExtractorQ = Annotated[str | None, Query(max_length=40, description="Re-score with this one")]
ScanQ = Annotated[int | None, Query(description="The scan the validation is compared with")]
PageQ = Annotated[int, Query(ge=1, description="Page of 50 questions")]
ShowQ = Annotated[str, Query(max_length=10, description="all | wrong (only the wrong ones)")]


def _json_url(request: Request, path: str) -> str:
    return f"{path}?{request.url.query}" if request.url.query else path


# --- test set --------------------------------------------------------------------------


@router.post(
    "/api/v1/projects/{project_id:id}/test-set",
    response_model=TestSetRead,
    status_code=201,
    tags=["validations"],
)
def api_upload_test_set(
    project_id: ProjectId, session: SessionDep, file: Annotated[UploadFile, File()]
) -> TestSetRead:
    """Make an uploaded file (questions with gold answers) the project's test set."""
    data = file.file.read()
    out = testsets.store_test_set(
        session, project_id=project_id, filename=file.filename or "upload", data=data
    )
    session.commit()
    return out


@router.post(
    "/api/v1/projects/{project_id:id}/test-set/holdout",
    response_model=TestSetRead,
    status_code=201,
    tags=["validations"],
)
def api_hold_out(project_id: ProjectId, data: HoldOut, session: SessionDep) -> TestSetRead:
    """Hold out ``n`` of the project's questions (with gold) as its test set, seed recorded."""
    out = testsets.hold_out_test_set(session, project_id=project_id, n=data.n, seed=data.seed)
    session.commit()
    return out


@router.post("/projects/{project_id:id}/test-set", include_in_schema=False, response_model=None)
def upload_test_set_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """A refused file comes back in the page (422) with the reason next to the file field."""
    filename = (file.filename if file else "") or ""
    try:
        if file is None or not filename:
            raise BadInput("file: choose a file of questions with gold answers", field="file")
        testsets.store_test_set(
            session, project_id=project_id, filename=filename, data=file.file.read()
        )
    except (UploadError, BadInput) as exc:
        session.rollback()
        state = FormState({"file": [filename]}, {"file": str(exc).removeprefix("file: ")})
        return _validations_page(request, session, project_id, None, {"test_set_form": state})
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/validations", status_code=303)


@router.post(
    "/projects/{project_id:id}/test-set/holdout", include_in_schema=False, response_model=None
)
def hold_out_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    n: Annotated[str, Form(max_length=40)] = "",
    seed: Annotated[str, Form(max_length=40)] = "",
) -> HTMLResponse | RedirectResponse:
    """Refused values come back in the page (422): what was typed, the reason at its field."""
    values = {"n": [n], "seed": [seed]}
    try:
        data = HoldOut(**spec_fields(HoldOut, values))
        testsets.hold_out_test_set(session, project_id=project_id, n=data.n, seed=data.seed)
    except (ValidationError, BadInput) as exc:
        session.rollback()
        state = FormState.refused(exc, values)
        return _validations_page(request, session, project_id, None, {"holdout_form": state})
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/validations", status_code=303)


# --- list and start --------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/validations",
    response_model=ValidationsIndex,
    tags=["validations"],
)
def api_validations(
    project_id: ProjectId, session: SessionDep, scan: ScanQ = None
) -> ValidationsIndex:
    return svc.get_validations_index(session, project_id=project_id, scan_id=scan)


@router.get(
    "/projects/{project_id:id}/validations", response_class=HTMLResponse, include_in_schema=False
)
def validations_page(
    request: Request, project_id: ProjectId, session: SessionDep, scan: ScanQ = None
) -> HTMLResponse:
    return _validations_page(request, session, project_id, scan, None)


def _validations_page(
    request: Request,
    session: Session,
    project_id: int,
    scan: int | None,
    forms: dict[str, FormState] | None,
) -> HTMLResponse:
    """The page; with a refused form (422: ``forms`` names it, validation_form, test_set_form
    or holdout_form), that form as it was sent."""
    data = svc.get_validations_index(session, project_id=project_id, scan_id=scan)
    return render(
        request,
        "pages/validations/index.html",
        {"page": data, **(forms or {})},
        status_code=422 if forms else 200,
        json_url=_json_url(request, f"/api/v1/projects/{project_id}/validations"),
    )


@router.post(
    "/api/v1/projects/{project_id:id}/validations",
    response_model=ValidationRead,
    status_code=201,
    tags=["validations"],
)
def api_start_validation(
    project_id: ProjectId, data: ValidationSpec, session: SessionDep
) -> ValidationRead:
    """Check everything that can be checked without the model, then queue one training job
    per (strategy, seed) and the untuned target's evaluation on the gpu queue."""
    validation = start_validation(session, project_id=project_id, data=data)
    session.commit()
    return svc.validation_read(validation)


@router.post("/projects/{project_id:id}/validations", include_in_schema=False, response_model=None)
async def start_validation_form(
    request: Request, project_id: ProjectId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """The form (its fields are the spec's, by name: defaults, bounds and help come from
    ``ValidationSpec`` and ``TrainSettings``), or a preset's settings as JSON (``spec_json``).
    Refused values come back in the page with 422: what was typed, each reason at its field."""
    form = await request.form()
    values = {key: [v for v in form.getlist(key) if isinstance(v, str)] for key in form}
    return await run_in_threadpool(_start_from_form, request, session, project_id, values)


def _start_from_form(
    request: Request, session: SessionDep, project_id: int, values: dict[str, list[str]]
) -> HTMLResponse | RedirectResponse:
    preset = "".join(values.get("spec_json", [])).strip()
    try:
        if preset:
            data = ValidationSpec(**json.loads(preset))
        else:
            top = spec_fields(ValidationSpec, values, skip=("train",))
            data = ValidationSpec(**top, train=spec_fields(TrainSettings, values))
        validation = start_validation(session, project_id=project_id, data=data)
    except (ValidationInputError, TrainingSettingsError, BadInput, ValueError) as exc:
        session.rollback()
        state = FormState.refused(exc, {} if preset else values)
        return _validations_page(request, session, project_id, None, {"validation_form": state})
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/validations/{validation.id}", status_code=303)


@router.post(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}/cancel",
    response_model=ValidationRead,
    tags=["validations"],
)
def api_cancel_validation(
    project_id: ProjectId, validation_id: PathId, session: SessionDep
) -> ValidationRead:
    """Cancel every training and evaluation job the validation still waits for (queued ones
    end at once, running ones at their next progress report); what finished is kept.
    422 when the validation has already ended."""
    validation = cancel_validation(session, project_id=project_id, validation_id=validation_id)
    session.commit()
    return svc.validation_read(validation)


@router.post(
    "/projects/{project_id:id}/validations/{validation_id:id}/cancel", include_in_schema=False
)
def cancel_validation_form(
    project_id: ProjectId, validation_id: PathId, session: SessionDep
) -> RedirectResponse:
    cancel_validation(session, project_id=project_id, validation_id=validation_id)
    session.commit()
    return RedirectResponse(f"/projects/{project_id}/validations/{validation_id}", status_code=303)


# --- downloads (declared before the page routes) ---------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}/predictions.jsonl",
    tags=["exports"],
)
def export_predictions(
    project_id: ProjectId, validation_id: PathId, session: SessionDep, extractor: ExtractorQ = None
) -> Response:
    """Every prediction (output, extracted, gold, correct, extractor) of every evaluation."""
    body = "".join(
        preds.predictions_jsonl(
            session, project_id=project_id, validation_id=validation_id, extractor=extractor
        )
    )
    return download(f"validation-{validation_id}-predictions.jsonl", "application/x-ndjson", body)


@router.get(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}/accuracy.csv", tags=["exports"]
)
def export_accuracy(project_id: ProjectId, validation_id: PathId, session: SessionDep) -> Response:
    """Accuracy per strategy: mean and spread over seeds, 95% interval, metric scores."""
    body = preds.accuracy_csv(session, project_id=project_id, validation_id=validation_id)
    return download(f"validation-{validation_id}-accuracy.csv", "text/csv; charset=utf-8", body)


@router.get(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}/runs/{run_id:id}/adapter.zip",
    tags=["exports"],
)
def export_adapter(
    project_id: ProjectId, validation_id: PathId, run_id: PathId, session: SessionDep
) -> Response:
    """The run's chosen LoRA adapter (peft folder, zipped)."""
    body = preds.adapter_zip(
        session, project_id=project_id, validation_id=validation_id, run_id=run_id
    )
    return download(f"validation-{validation_id}-run-{run_id}-adapter.zip", "application/zip", body)


# --- predictions -----------------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}/evaluations/{evaluation_id:id}",
    response_model=PredictionsPage,
    tags=["validations"],
)
def api_predictions(
    project_id: ProjectId,
    validation_id: PathId,
    evaluation_id: PathId,
    session: SessionDep,
    extractor: ExtractorQ = None,
    page: PageQ = 1,
    show: ShowQ = "all",
) -> PredictionsPage:
    """Per question: output -> extracted -> gold -> correct; ``extractor`` re-scores the
    saved outputs without running the model; ``show=wrong`` keeps only the wrong ones."""
    return preds.get_predictions_page(
        session,
        project_id=project_id,
        validation_id=validation_id,
        evaluation_id=evaluation_id,
        extractor=extractor,
        page=page,
        show=show,
    )


@router.get(
    "/projects/{project_id:id}/validations/{validation_id:id}/evaluations/{evaluation_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def predictions_page(
    request: Request,
    project_id: ProjectId,
    validation_id: PathId,
    evaluation_id: PathId,
    session: SessionDep,
    extractor: ExtractorQ = None,
    page: PageQ = 1,
    show: ShowQ = "all",
) -> HTMLResponse:
    data = preds.get_predictions_page(
        session,
        project_id=project_id,
        validation_id=validation_id,
        evaluation_id=evaluation_id,
        extractor=extractor,
        page=page,
        show=show,
    )
    path = f"/api/v1/projects/{project_id}/validations/{validation_id}/evaluations/{evaluation_id}"
    return render(
        request,
        "pages/validations/predictions.html",
        {"page": data},
        json_url=_json_url(request, path),
    )


# --- the validation page ---------------------------------------------------------------


@router.get(
    "/api/v1/projects/{project_id:id}/validations/{validation_id:id}",
    response_model=ValidationPage,
    tags=["validations"],
)
def api_validation(
    project_id: ProjectId,
    validation_id: PathId,
    session: SessionDep,
    a: NameQ = None,
    b: NameQ = None,
) -> ValidationPage:
    """Progress and curves per run, evaluations, and the results with the paired comparison
    of strategies ``a`` and ``b`` (default: the two best)."""
    return svc.get_validation_page(
        session, project_id=project_id, validation_id=validation_id, a=a, b=b
    )


@router.get(
    "/projects/{project_id:id}/validations/{validation_id:id}",
    response_class=HTMLResponse,
    include_in_schema=False,
)
def validation_page(
    request: Request,
    project_id: ProjectId,
    validation_id: PathId,
    session: SessionDep,
    a: NameQ = None,
    b: NameQ = None,
) -> HTMLResponse:
    data = svc.get_validation_page(
        session, project_id=project_id, validation_id=validation_id, a=a, b=b
    )
    path = f"/api/v1/projects/{project_id}/validations/{validation_id}"
    return render(
        request,
        "pages/validations/show.html",
        {"page": data, "charts": svc.validation_charts(session, data)},
        partial="partials/validations/_body.html",
        json_url=_json_url(request, path),
    )


__all__ = ["router", "is_htmx"]
