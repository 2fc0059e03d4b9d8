"""create_app(): mount static, include routers, error handlers; no logic."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.ingest.records import UploadError
from app.routes import (
    account,
    auth,
    browse,
    estimates,
    jobs,
    judgements,
    manage,
    members,
    projects,
    results,
    scans,
    share,
    uploads,
)
from app.security.access import access_guard
from app.security.errors import (
    AccessDenied,
    AuthRequired,
    handle_access_denied,
    handle_auth_required,
    handle_hashing_busy,
)
from app.security.headers import HostAndHeadersMiddleware, inline_script_csp
from app.security.sessions import add_session_middleware
from app.security.templating import install_template_globals
from app.security.throttle import HashingBusy
from app.services.errors import BadInput, Conflict, NotFound
from app.web import ROOT, is_htmx, templates

ERROR_STATUS = {NotFound: 404, Conflict: 409, BadInput: 422, UploadError: 422}


def _error_body(exc: Exception) -> dict[str, object]:
    body: dict[str, object] = {"detail": str(exc)}
    if isinstance(exc, UploadError):
        body.update(filename=exc.filename, line=exc.line, field=exc.field)
    return body


async def handle_error(request: Request, exc: Exception) -> Response:
    status = next(code for cls, code in ERROR_STATUS.items() if isinstance(exc, cls))
    body = _error_body(exc)
    if request.url.path.startswith("/api/"):
        return JSONResponse(body, status_code=status)
    name = "partials/_error.html" if is_htmx(request) else "pages/error.html"
    context = {"status": status, "error": body, "project": _project_crumb(request)}
    return templates.TemplateResponse(request, name, context, status_code=status)


def _project_crumb(request: Request) -> dict[str, object] | None:
    """The project an error page is about (for its breadcrumbs), when it exists."""
    from app.db import session_scope
    from app.models import Project

    raw = request.path_params.get("project_id")
    if raw is None or not str(raw).isdigit():
        return None
    with session_scope() as session:
        project = session.get(Project, int(raw))
        return {"id": project.id, "name": project.name} if project else None


def create_app() -> FastAPI:
    app = FastAPI(
        title="Familiar",
        description="Which response generation strategy will your target model learn best from?",
        version="0.1.0",
        dependencies=[Depends(access_guard)],  # every route, also those added later
        docs_url=None,  # served below from static/ (FastAPI's default loads a CDN)
        redoc_url=None,
    )
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    # results before scans: it serves the scan page and its JSON twin as the result page
    for module in (
        projects,
        uploads,
        estimates,  # before results: /scans/estimate is not a scan id
        browse,
        judgements,
        jobs,
        results,
        scans,
        auth,
        account,
        share,
        manage,
        members,
    ):
        app.include_router(module.router)
    for cls in ERROR_STATUS:
        app.add_exception_handler(cls, handle_error)
    app.add_exception_handler(AuthRequired, handle_auth_required)
    app.add_exception_handler(AccessDenied, handle_access_denied)
    app.add_exception_handler(HashingBusy, handle_hashing_busy)
    add_session_middleware(app)
    app.add_middleware(HostAndHeadersMiddleware)  # outermost: unknown Host names stop here
    install_template_globals(templates)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", api_docs, methods=["GET"], include_in_schema=False)
    return app


SWAGGER = "/static/vendor/swagger-ui"


def api_docs() -> HTMLResponse:
    """Swagger UI from the vendored copy; no validator badge (it would call swagger.io)."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json", title="Familiar API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )  # fmt: skip
    page.headers["content-security-policy"] = inline_script_csp(page.body.decode())
    return page


def healthz() -> HTMLResponse:
    return HTMLResponse("ok")
