"""Uploads of strategy files: the browser form (htmx fragment) and the JSON API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse

from app.config import get_settings
from app.deps import SessionDep
from app.ingest.code_tests import NO_TESTS
from app.ingest.read import check_size
from app.ingest.records import FieldMapping
from app.schemas.uploads import UploadResult
from app.security.guards import ProjectId
from app.services.uploads import ingest_files
from app.web import render

router = APIRouter()


def _read_all(files: list[UploadFile]) -> list[tuple[str, bytes]]:
    """The spooled files' bytes. The routes are plain ``def``: FastAPI runs them in its
    thread pool, so parsing and writing a big upload never blocks the event loop."""
    out, limit = [], get_settings().max_upload_bytes
    for f in files:
        if f.size is not None:  # over the limit: refused before it is read into memory
            check_size(f.filename or "upload", f.size, limit)
        f.file.seek(0)
        out.append((f.filename or "upload", f.file.read()))
    return out


def _mapping(
    question: str,
    response: str,
    input_: str,
    id_: str,
    gold: str,
    strategy: str,
    category: str = "",
    tests: str = "",
) -> FieldMapping | None:
    """The user's field mapping; ``tests`` names the tests field, "none" turns tests off."""
    tests_field = NO_TESTS if tests.strip().casefold() == "none" else tests.strip() or None
    if not (question or response):  # a category or tests field alone: detect the rest
        if not (category or tests_field is not None):
            return None
        return FieldMapping(layout="auto", category=category or None, tests=tests_field)
    return FieldMapping(
        layout="custom",
        question=question or None,
        response=response or None,
        input=input_ or None,
        id=id_ or None,
        gold=gold or None,
        strategy=strategy or None,
        category=category or None,
        tests=tests_field,
    )


TESTS_FIELD_HELP = (
    "Field holding a code task's tests, a list or a Python list literal (default: "
    "test_list, tests, test, test_cases or assertions); 'none': the file has no tests field"
)
MappingFields = dict(description="Field-mapping override (when detection is ambiguous)")


@router.post(
    "/api/v1/projects/{project_id:id}/uploads",
    response_model=UploadResult,
    status_code=201,
    tags=["uploads"],
)
def api_upload(
    project_id: ProjectId,
    session: SessionDep,
    files: Annotated[list[UploadFile], File(description="One or more strategy files")],
    strategy: Annotated[str, Form(description="Strategy name (single file only)")] = "",
    replace: Annotated[bool, Form(description="Replace strategies of the same name")] = False,
    new_question_set: Annotated[
        bool,
        Form(
            description="The files answer a new set of questions on purpose (a test set): "
            "accepted even when no question stays answered by every strategy"
        ),
    ] = False,
    question_field: Annotated[str, Form(**MappingFields)] = "",
    response_field: Annotated[str, Form(**MappingFields)] = "",
    input_field: Annotated[str, Form(**MappingFields)] = "",
    id_field: Annotated[str, Form(**MappingFields)] = "",
    gold_field: Annotated[str, Form(**MappingFields)] = "",
    strategy_field: Annotated[str, Form(**MappingFields)] = "",
    category_field: Annotated[
        str,
        Form(
            description="Field holding each question's category "
            "(default: category, subject or task)"
        ),
    ] = "",
    tests_field: Annotated[str, Form(description=TESTS_FIELD_HELP)] = "",
) -> UploadResult:
    """Ingest the files, all or nothing; errors name the file, line and field."""
    mapping = _mapping(
        question_field,
        response_field,
        input_field,
        id_field,
        gold_field,
        strategy_field,
        category_field,
        tests_field,
    )
    result = ingest_files(
        session,
        project_id=project_id,
        files=_read_all(files),
        strategy_name=strategy.strip() or None,
        mapping=mapping,
        replace=replace,
        new_question_set=new_question_set,
    )
    session.commit()
    return result


@router.post(
    "/projects/{project_id:id}/uploads", response_class=HTMLResponse, include_in_schema=False
)
def upload_form(
    request: Request,
    project_id: ProjectId,
    session: SessionDep,
    files: Annotated[list[UploadFile], File()],
    strategy: Annotated[str, Form()] = "",
    replace: Annotated[bool, Form()] = False,
    new_question_set: Annotated[bool, Form()] = False,
    question_field: Annotated[str, Form()] = "",
    response_field: Annotated[str, Form()] = "",
    input_field: Annotated[str, Form()] = "",
    id_field: Annotated[str, Form()] = "",
    gold_field: Annotated[str, Form()] = "",
    strategy_field: Annotated[str, Form()] = "",
    category_field: Annotated[str, Form()] = "",
    tests_field: Annotated[str, Form()] = "",
) -> HTMLResponse:
    mapping = _mapping(
        question_field,
        response_field,
        input_field,
        id_field,
        gold_field,
        strategy_field,
        category_field,
        tests_field,
    )
    result = ingest_files(
        session,
        project_id=project_id,
        files=_read_all(files),
        strategy_name=strategy.strip() or None,
        mapping=mapping,
        replace=replace,
        new_question_set=new_question_set,
    )
    session.commit()
    return render(
        request, "partials/uploads/_result.html", {"result": result, "project_id": project_id}
    )
