"""Jobs: the status page (polled by htmx while running), its JSON twin, and cancel."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import PathId, SessionDep
from app.models import Project
from app.schemas.jobs import JobRead
from app.services.jobs import cancel_job, get_job
from app.web import is_htmx, render

router = APIRouter()


@router.get("/api/v1/jobs/{job_id}", response_model=JobRead, tags=["jobs"])
def api_job(job_id: PathId, session: SessionDep) -> JobRead:
    return get_job(session, job_id=job_id)


@router.post("/api/v1/jobs/{job_id}/cancel", response_model=JobRead, tags=["jobs"])
def api_cancel_job(job_id: PathId, session: SessionDep) -> JobRead:
    """Cancel a queued job (it ends at once) or a running one (it stops at its next progress
    report, keeps what it finished, and ends ``cancelled``); 422 when it already ended."""
    job = cancel_job(session, job_id=job_id)
    session.commit()
    return job


@router.get("/jobs/{job_id}", response_class=HTMLResponse, include_in_schema=False)
def job_page(request: Request, job_id: PathId, session: SessionDep) -> HTMLResponse:
    job = get_job(session, job_id=job_id)
    project = session.get(Project, job.project_id) if job.project_id else None
    response = render(
        request, "pages/jobs/show.html", {"job": job, "project_name": project and project.name},
        partial="partials/jobs/_status.html", json_url=f"/api/v1/jobs/{job_id}",
    )  # fmt: skip
    if job.finished:
        # A page polling this job refreshes what the job changed (e.g. the strategy table,
        # the drill-down's per-token surprise).
        response.headers["HX-Trigger"] = "refresh-strategies, job-finished"
    return response


@router.post("/jobs/{job_id}/cancel", include_in_schema=False, response_model=None)
def cancel_job_form(
    request: Request, job_id: PathId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """htmx: the job's status fragment; a plain form: back to the job page."""
    job = cancel_job(session, job_id=job_id)
    session.commit()
    if is_htmx(request):
        return render(request, "partials/jobs/_status.html", {"job": job})
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
