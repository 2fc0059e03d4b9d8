"""create_app(): mount static, include routers, error handlers; no logic."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exception_handlers import (
    http_exception_handler,
    request_validation_exception_handler,
)
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import get_settings
from app.db import get_engine
from app.dbhealth import (
    DATABASE_DOWN,
    DatabaseUnavailable,
    check_database,
    describe,
    note_down,
    require_database,
)
from app.ids import MAX_ID, bounded_id
from app.ingest.records import UploadError
from app.jobs.enqueue import send_unsent
from app.lab.redact import scrub_secret_inputs
from app.limits import RequestSizeLimit
from app.queue import check_broker
from app.routes import (
    account,
    accuracies,
    auth,
    browse,
    estimates,
    exports,
    jobs,
    judgements,
    lab,
    lab_costs,
    lab_full_set,
    lab_pages,
    manage,
    members,
    metrics,
    mixes,
    playground,
    projects,
    results,
    scans,
    share,
    studies,
    uploads,
    validations,
    verdicts,
)
from app.schemas.errors import ERROR_RESPONSES
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
from app.services.errors import BadInput, Conflict, NotFound, TooLarge
from app.web import ROOT, is_htmx, templates

ERROR_STATUS = {NotFound: 404, Conflict: 409, BadInput: 422, UploadError: 422, TooLarge: 413}


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


async def handle_database_down(request: Request, exc: Exception) -> Response:
    """503 while the database is away: JSON under /api, else a page in the site's layout."""
    if isinstance(exc, DatabaseUnavailable):
        detail = str(exc)
    else:
        note_down(exc)  # one line on stderr when the database has just gone away
        detail = describe(exc)
    headers = {"Retry-After": "5"}
    if request.url.path == "/healthz":
        return PlainTextResponse(detail, status_code=503, headers=headers)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": detail}, status_code=503, headers=headers)
    name = "partials/_error.html" if is_htmx(request) else "pages/error.html"
    context = {"status": 503, "error": {"detail": detail}, "project": None}
    return templates.TemplateResponse(request, name, context, status_code=503, headers=headers)


async def handle_request_validation(request: Request, exc: Exception) -> Response:
    """A path that does not name anything (an id out of range, not a number): 404 like a
    missing id. Other bad parameters: FastAPI's 422 on the API, the error page on pages."""
    assert isinstance(exc, RequestValidationError)
    errors = scrub_secret_inputs(list(exc.errors()))
    if path_errors := [e for e in errors if e["loc"][:1] == ("path",)]:
        name = str(path_errors[0]["loc"][-1]).removesuffix("_id")
        value = str(path_errors[0].get("input", ""))[:40]
        return await handle_error(request, NotFound(f"{name} {value} not found"))
    if request.url.path.startswith("/api/"):
        return await request_validation_exception_handler(request, RequestValidationError(errors))
    detail = "; ".join(f"{_where(e['loc'])}: {e['msg']}{_got(e)}" for e in errors)
    return await handle_error(request, BadInput(detail or "bad request"))


async def handle_no_route(request: Request, exc: Exception) -> Response:
    """No route matches: 404 in the site's form (a page, or JSON under /api). Ids in paths
    have one spelling (`app.ids`), so `/projects/+2` lands here before any rule runs."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code != 404:
        return await http_exception_handler(request, exc)
    return await handle_error(request, NotFound(NO_ROUTE))


NO_ROUTE = (
    "Nothing here. Check the address: an id in it is written in plain digits, 1 to "
    f"{MAX_ID} (for example /projects/2)."
)


def _where(loc: tuple[object, ...]) -> str:
    kind = {"query": "query parameter", "body": "field"}.get(str(loc[0]), str(loc[0]))
    return f"{kind} '{'.'.join(str(p) for p in loc[1:])}'" if len(loc) > 1 else kind


def _got(error: dict[str, object]) -> str:
    value = error.get("input")
    return f" (got '{value[:80]}')" if isinstance(value, str) else ""


def _project_crumb(request: Request) -> dict[str, object] | None:
    """The project an error page is about (for its breadcrumbs), when it exists."""
    from app.db import session_scope
    from app.models import Project

    pid = bounded_id(request.path_params.get("project_id"))
    if pid is None:
        return None
    with session_scope() as session:
        project = session.get(Project, pid)
        return {"id": project.id, "name": project.name} if project else None


def create_app() -> FastAPI:
    app = FastAPI(
        title="Familiar",
        description="Which response generation strategy will your target model learn best from?",
        version="0.1.0",
        # every route, also those added later: 503 while start-up waits for the database
        dependencies=[Depends(require_database), Depends(access_guard)],
        docs_url=None,  # served below from static/ (FastAPI's default loads a CDN)
        redoc_url=None,
        responses=ERROR_RESPONSES,  # documented on every operation
    )
    app.mount("/static", StaticFiles(directory=str(ROOT / "static")), name="static")
    # results before scans: it serves the scan page and its JSON twin as the result page
    for module in (
        projects,
        uploads,
        estimates,  # before results: /scans/estimate is not a scan id
        metrics,  # before results: /scans/import is not a scan id
        browse,
        judgements,
        verdicts,
        jobs,
        playground,
        results,
        accuracies,
        mixes,
        exports,
        scans,
        validations,
        auth,
        account,
        share,
        manage,
        studies,
        members,
        lab,
        lab_pages,
        lab_costs,
        lab_full_set,
    ):
        name_operations(module.router)
        app.include_router(module.router)
    for cls in ERROR_STATUS:
        app.add_exception_handler(cls, handle_error)
    for down in (*DATABASE_DOWN, DatabaseUnavailable):
        app.add_exception_handler(down, handle_database_down)
    app.add_exception_handler(RequestValidationError, handle_request_validation)
    app.add_exception_handler(StarletteHTTPException, handle_no_route)
    app.add_exception_handler(AuthRequired, handle_auth_required)
    app.add_exception_handler(AccessDenied, handle_access_denied)
    app.add_exception_handler(HashingBusy, handle_hashing_busy)
    add_session_middleware(app)
    app.add_middleware(HostAndHeadersMiddleware)  # unknown Host names stop here
    limit = get_settings().max_request_bytes  # outermost (added last): before any read
    app.add_middleware(RequestSizeLimit, max_bytes=limit, respond=handle_error)
    install_template_globals(templates)
    app.add_api_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_api_route("/docs", api_docs, methods=["GET"], include_in_schema=False)
    return app


def name_operations(router: APIRouter) -> None:
    """Operation names in /docs as a person says them ("List projects"), not FastAPI's title
    of the function's name ("Api List Projects"); a route's own ``summary`` wins."""
    for route in router.routes:
        if isinstance(route, APIRoute) and route.include_in_schema and not route.summary:
            words = route.name.removeprefix("api_").replace("_", " ").strip()
            route.summary = words[:1].upper() + words[1:]


SWAGGER = "/static/vendor/swagger-ui"


def api_docs() -> HTMLResponse:
    """Swagger UI from the vendored copy; no validator badge (it would call swagger.io)."""
    page = get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Familiar API",
        swagger_js_url=f"{SWAGGER}/swagger-ui-bundle.js",
        swagger_css_url=f"{SWAGGER}/swagger-ui.css",
        swagger_favicon_url=f"{SWAGGER}/favicon-32x32.png",
        swagger_ui_parameters={"validatorUrl": None},
    )
    page.headers["content-security-policy"] = inline_script_csp(page.body.decode())
    return page


def healthz() -> Response:
    """200 "ok" when the database and the queue broker answer; 503 and the reason in one line
    when not. Jobs created while the broker was away are sent here, at the first check that
    finds it back (app.jobs.enqueue)."""
    problem = check_database() or check_broker()
    if problem:
        return PlainTextResponse(problem, status_code=503, headers={"Retry-After": "5"})
    send_unsent(get_engine())
    return PlainTextResponse("ok")
