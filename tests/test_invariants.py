"""Architecture invariants: every HTML page has a JSON twin built by the same service call,
and the web app never imports torch, transformers or the workers."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
import textwrap
import types
from collections.abc import Iterator

from fastapi.routing import APIRoute

from tests.paths import ROOT

# Pages whose twin is not simply "/api/v1" + the page's path.
TWINS = {
    "/": "/api/v1/projects",
    "/projects/{project_id}/strategies/{strategy_id}": (
        "/api/v1/projects/{project_id}/strategies/{strategy_id}/responses"
    ),
    "/projects/{project_id}/share": "/api/v1/projects/{project_id}/share-links",
    "/studies/{study_id}/share": "/api/v1/studies/{study_id}/share-links",
}
NOT_PAGES = {"/login", "/setup", "/s/{token}", "/healthz", "/docs"}  # forms, redirects, API docs


def _routes() -> Iterator[APIRoute]:
    from app.main import create_app

    def walk(routes):  # type: ignore[no-untyped-def]
        for r in routes:
            inner = getattr(r, "original_router", None)
            if inner is not None:
                yield from walk(inner.routes)
            elif isinstance(r, APIRoute):
                yield r

    yield from walk(create_app().routes)


def _service_calls(func: types.FunctionType, seen: set[str] | None = None) -> set[str]:
    """The service functions (app.services, app.security) a route calls, following helpers of
    its own module."""
    seen = seen if seen is not None else set()
    if func.__qualname__ in seen:
        return set()
    seen.add(func.__qualname__)
    tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        target = _resolve(node.func, func.__globals__)
        if not callable(target):
            continue
        module = getattr(target, "__module__", "") or ""
        if module.startswith(("app.services", "app.security")) and module != "app.security.access":
            found.add(f"{module}.{target.__name__}")
        elif module == func.__module__ and isinstance(target, types.FunctionType):
            found |= _service_calls(target, seen)
    return found


def _route_service_calls(route: APIRoute) -> set[str]:
    """The service calls of a route's endpoint and of the dependencies it declares that live in
    the routes package (a dependency two routes share is one service call for both)."""
    found = _service_calls(route.endpoint)
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        stack.extend(dep.dependencies)
        call = dep.call
        if isinstance(call, types.FunctionType) and call.__module__.startswith("app.routes"):
            found |= _service_calls(call)
    return found


def _resolve(node: ast.expr, scope: dict) -> object:
    if isinstance(node, ast.Name):
        return scope.get(node.id)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, scope)
        return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
    return None


def test_every_html_page_has_a_json_twin_from_the_same_service_call() -> None:
    routes = [r for r in _routes() if "GET" in r.methods]
    api = {r.path_format: r for r in routes if r.path_format.startswith("/api/v1")}
    pages = [
        r
        for r in routes
        if not r.path_format.startswith(("/api/v1", "/static")) and r.path_format not in NOT_PAGES
    ]
    assert len(pages) >= 10
    for page in pages:
        twin_path = TWINS.get(page.path_format, "/api/v1" + page.path_format)
        assert twin_path in api, f"{page.path_format} has no JSON twin at {twin_path}"
        shared = _route_service_calls(page) & _route_service_calls(api[twin_path])
        assert shared, f"{page.path_format} and {twin_path} call no service in common"


def test_the_web_app_imports_no_torch_transformers_or_workers() -> None:
    code = (
        "import sys\n"
        "from fastapi.testclient import TestClient\n"
        "from app.main import create_app\n"
        "import app.cli, app.jobs.kinds, app.services.results.page\n"
        "create_app()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'transformers', 'workers', 'peft'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
