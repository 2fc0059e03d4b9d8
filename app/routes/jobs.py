"""Jobs: the status page (polled by htmx while running), its JSON twin, and cancel."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.deps import SessionDep
from app.jobs.kinds import KINDS, UnknownJobKindError, get_kind
from app.jobs.states import JobState
from app.models import Project
from app.schemas.jobs import JobRead, JobSort, JobsPage, SortOrder
from app.security.access import member_filter
from app.security.guards import JobId
from app.security.roles import visible_project_ids
from app.services.errors import BadInput
from app.services.jobs import cancel_job, get_job, list_all_jobs
from app.web import is_htmx, render

router = APIRouter()

StatusQ = Annotated[JobState | None, Query(description="Only jobs in this state")]
KindQ = Annotated[str | None, Query(max_length=40, description="Only jobs of this kind")]
ProjectQ = Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Only this project's")]
PageQ = Annotated[int, Query(ge=1, le=100_000)]
SortQ = Annotated[JobSort, Query(description="Sort by: created, kind, status, project, duration")]
OrderQ = Annotated[SortOrder, Query(description="asc or desc")]


def jobs_across_projects(
    request: Request,
    session: SessionDep,
    status: StatusQ = None,
    kind: KindQ = None,
    project: ProjectQ = None,
    page: PageQ = 1,
    sort: SortQ = "created",
    order: OrderQ = "desc",
) -> JobsPage:
    """The filtered page of jobs (a dependency: the JSON and the HTML route share it)."""
    if kind:
        try:
            get_kind(kind)
        except UnknownJobKindError as exc:  # a 422 naming the closest kind
            raise BadInput(f"kind: {exc}") from exc
    user = member_filter(request)
    visible = None if user is None else visible_project_ids(session, user=user)
    return list_all_jobs(
        session,
        visible=visible,
        status=status.value if status else None,
        kind=kind or None,
        project_id=project,
        page=page,
        sort=sort,
        order=order,
    )


JobsDep = Annotated[JobsPage, Depends(jobs_across_projects)]


@router.get("/api/v1/jobs", response_model=JobsPage, tags=["jobs"])
def api_list_jobs(data: JobsDep) -> JobsPage:
    """Jobs across the projects you may read, 50 a page: newest first, or sorted by
    ``sort`` (created, kind, status, project, duration) in ``order`` (asc, desc)."""
    return data


@router.get("/jobs", response_class=HTMLResponse, include_in_schema=False)
def jobs_index(request: Request, data: JobsDep) -> HTMLResponse:
    context = {"page": data, "kinds": sorted(KINDS), "states": [s.value for s in JobState]}
    return render(request, "pages/jobs/index.html", context, json_url="/api/v1/jobs")


@router.get("/api/v1/jobs/{job_id:id}", response_model=JobRead, tags=["jobs"])
def api_job(job_id: JobId, session: SessionDep) -> JobRead:
    return get_job(session, job_id=job_id)


@router.post("/api/v1/jobs/{job_id:id}/cancel", response_model=JobRead, tags=["jobs"])
def api_cancel_job(job_id: JobId, session: SessionDep) -> JobRead:
    """Cancel a queued job (it ends at once) or a running one (it stops at its next progress
    report, keeps what it finished, and ends ``cancelled``); 422 when it already ended."""
    job = cancel_job(session, job_id=job_id)
    session.commit()
    return job


@router.get("/jobs/{job_id:id}", response_class=HTMLResponse, include_in_schema=False)
def job_page(request: Request, job_id: JobId, session: SessionDep) -> HTMLResponse:
    job = get_job(session, job_id=job_id)
    project = session.get(Project, job.project_id) if job.project_id else None
    response = render(
        request,
        "pages/jobs/show.html",
        {"job": job, "project_name": project and project.name},
        partial="partials/jobs/_status.html",
        json_url=f"/api/v1/jobs/{job_id}",
    )
    if job.finished:
        # A page polling this job refreshes what the job changed (e.g. the strategy table,
        # the drill-down's per-token surprise).
        response.headers["HX-Trigger"] = "refresh-strategies, job-finished"
    return response


@router.post("/jobs/{job_id:id}/cancel", include_in_schema=False, response_model=None)
def cancel_job_form(
    request: Request, job_id: JobId, session: SessionDep
) -> HTMLResponse | RedirectResponse:
    """htmx: the job's status fragment; a plain form: back to the job page."""
    job = cancel_job(session, job_id=job_id)
    session.commit()
    if is_htmx(request):
        return render(request, "partials/jobs/_status.html", {"job": job})
    return RedirectResponse(f"/jobs/{job_id}", status_code=303)
