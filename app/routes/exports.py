"""A scan's downloads: the result page as JSON, the rankings and per-question values as CSV,
training records of a strategy or of the per-question mix as JSONL; and the one way every
route answers with a file (``download``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response, StreamingResponse

from app.deps import PathId, SessionDep
from app.schemas.results import ReportMetric
from app.security.guards import ProjectId
from app.services.results import exports

router = APIRouter()
FormQ = Annotated[Literal["messages", "alpaca"], Query(description="Training record form")]
FamiliarityQ = Annotated[
    ReportMetric, Query(description="Chosen by: a familiarity metric of the scan (sppl, ppl...)")
]


def download(
    filename: str, media_type: str, body: str | bytes | Iterator[str] | Iterator[bytes]
) -> Response:
    """A file as an attachment (a generator body is streamed)."""
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if isinstance(body, (str, bytes)):
        return Response(body, media_type=media_type, headers=headers)
    return StreamingResponse(body, media_type=media_type, headers=headers)


def _download(d: exports.Download) -> Response:
    return download(d.filename, d.media_type, d.body)


def file_response(media_type: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI: the 200 answer is a file of this type (as an attachment)."""
    content = {media_type: {"schema": {"type": "string"}}}
    return {200: {"description": "The file", "content": content}}


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/report.json",
    tags=["exports"],
    responses=file_response("application/json"),
)
def export_report_json(project_id: ProjectId, scan_id: PathId, session: SessionDep) -> Response:
    """The full result page JSON, as a file."""
    return _download(exports.report_json(session, project_id=project_id, scan_id=scan_id))


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/report.csv",
    tags=["exports"],
    responses=file_response("text/csv"),
)
def export_rankings_csv(project_id: ProjectId, scan_id: PathId, session: SessionDep) -> Response:
    """Per metric and strategy: rank, mean, median, std, interval, n, tie with the top."""
    return _download(exports.rankings_csv(session, project_id=project_id, scan_id=scan_id))


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/values.csv",
    tags=["exports"],
    responses=file_response("text/csv"),
)
def export_values_csv(project_id: ProjectId, scan_id: PathId, session: SessionDep) -> Response:
    """Every per-question value of the scan (streamed)."""
    return _download(exports.values_csv(session, project_id=project_id, scan_id=scan_id))


@router.get(
    "/api/v1/projects/{project_id:id}/scans/{scan_id:id}/mix.jsonl",
    tags=["exports"],
    responses=file_response("application/x-ndjson"),
)
def export_mix(
    project_id: ProjectId,
    scan_id: PathId,
    session: SessionDep,
    metric: FamiliarityQ = "sppl",
    form: FormQ = "messages",
) -> Response:
    """Training file: per scanned question the most familiar response not known to be wrong."""
    return _download(
        exports.mix_jsonl(session, project_id=project_id, scan_id=scan_id, metric=metric, form=form)
    )


@router.get(
    "/api/v1/projects/{project_id:id}/strategies/{strategy_id:id}/training.jsonl",
    tags=["exports"],
    responses=file_response("application/x-ndjson"),
)
def export_strategy(
    project_id: ProjectId, strategy_id: PathId, session: SessionDep, form: FormQ = "messages"
) -> Response:
    """Training file: every response of one strategy (chat `messages` or Alpaca)."""
    return _download(
        exports.strategy_jsonl(session, project_id=project_id, strategy_id=strategy_id, form=form)
    )
