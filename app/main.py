"""create_app(): mount static, include routers, error handlers; no logic."""

from __future__ import annotations

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.ingest.records import UploadError
from app.routes import auth, browse, jobs, judgements, projects, results, scans, share, uploads
from app.security.access import access_guard
from app.security.errors import (
    AccessDenied,
    AuthRequired,
    handle_access_denied,
    handle_auth_required,
)
from app.security.sessions import add_session_middleware
from app.security.templating import install_template_globals
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
    return templates.TemplateResponse(
        request, name, {"status": status, "error": body}, status_code=status
    )


def create_app() -> FastAPI:
    app = FastAPI(
        title="Familiar",
        description="Which response generation strategy will your target model learn best from?",
        version="0.1.0",
        dependencies=[Depends(access_guard)],  # every route, also those added later
    )
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    # results before scans: it serves the scan page and its JSON twin as the result page
    for module in (projects, uploads, browse, judgements, jobs, results, scans, auth, share):
        app.include_router(module.router)
    for cls in ERROR_STATUS:
        app.add_exception_handler(cls, handle_error)
    app.add_exception_handler(AuthRequired, handle_auth_required)
    app.add_exception_handler(AccessDenied, handle_access_denied)
    add_session_middleware(app)
    install_template_globals(templates)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    return app


def healthz() -> HTMLResponse:
    return HTMLResponse("ok")
