"""Template globals: the CSRF token and who is signed in (for base.html)."""

from __future__ import annotations

from typing import Any

from fastapi.templating import Jinja2Templates
from jinja2 import pass_context

from app.db import session_scope
from app.security.access import current_principal, project_role
from app.security.csrf import csrf_token


@pass_context
def _csrf_token(ctx: Any) -> str:
    request = ctx.get("request")
    return csrf_token(request) if request is not None else ""


@pass_context
def _project_role(ctx: Any, project_id: int | None) -> str | None:
    """The caller's role in a project for showing controls: "owner", "editor", "viewer",
    or None (no access; a project share link reads as a viewer). Pages show each role only
    what it may do (``app.security.access.project_role``); the guards decide every request."""
    request = ctx.get("request")
    if request is None:
        return None
    if project_id is None:  # a job of no project: the local user's in single mode
        return "owner" if current_principal(request).mode == "single" else None
    cache: dict[int, str | None] = request.state.__dict__.setdefault("project_roles", {})
    if project_id not in cache:
        session = getattr(request.state, "session", None)  # the request's own (app.deps)
        if session is not None:
            cache[project_id] = project_role(request, session, int(project_id))
        else:
            with session_scope() as own:
                cache[project_id] = project_role(request, own, int(project_id))
    return cache[project_id]


@pass_context
def _auth(ctx: Any) -> Any:
    request = ctx.get("request")
    return current_principal(request).me() if request is not None else None


def install_template_globals(templates: Jinja2Templates) -> None:
    templates.env.globals.update(csrf_token=_csrf_token, auth=_auth, project_role=_project_role)
