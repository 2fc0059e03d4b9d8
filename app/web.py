"""Templates and render(): the only place HX-* headers are read."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from app.metrics import registry
from app.render import render_markdown
from app.schemas.validations import HoldOut
from app.specs.form_fields import SpecFields
from app.specs.forms import FormState
from app.specs.playground import PlaygroundCreate
from app.specs.scan import ScanSpec
from app.specs.training import TrainSettings
from app.specs.validation import ValidationSpec

ROOT = Path(__file__).resolve().parents[1]
templates = Jinja2Templates(directory=str(ROOT / "templates"))
templates.env.filters["md"] = render_markdown


def _fmt_num(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def _fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.1f}%"


def _fmt_time(value: datetime | None) -> str:
    return "–" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    seconds = int(round(seconds))
    minutes, secs = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m" if hours else f"{minutes}m {secs:02d}s"


def _sentence(text: str | None) -> str:
    """The first letter in upper case, the rest as written (``capitalize`` lowers the rest)."""
    return text[:1].upper() + text[1:] if text else ""


def _setting(value: object) -> str:
    """A setting as a person reads it: lists joined, yes/no, "–" for none, floats rounded
    (pages never print Python's ``['ppl', 'sppl']``, ``None`` or ``True``)."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(_setting(v) for v in value) or "–"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_setting(v)}" for k, v in value.items()) or "–"
    return str(value)


templates.env.filters.update(
    setting=_setting,
    num=_fmt_num,
    pct=_fmt_pct,
    time=_fmt_time,
    duration=_fmt_duration,
    sentence=_sentence,
)
# every form's defaults, bounds, help and choices are its spec's: specs.scan.samples.bounds
templates.env.globals["specs"] = {
    "scan": SpecFields(ScanSpec),
    "validation": SpecFields(ValidationSpec),
    "train": SpecFields(TrainSettings),
    "playground": SpecFields(PlaygroundCreate),
    "holdout": SpecFields(HoldOut),
}
templates.env.globals["blank_form"] = FormState()  # a form not sent yet: the defaults
templates.env.globals["metric_label"] = registry.label_of  # app.metrics.registry
templates.env.filters["metric_label"] = registry.label_of
templates.env.globals["metrics_registry"] = registry


def is_htmx(request: Request) -> bool:
    """A fragment request: htmx asking for part of a page. A boosted link and a history
    restore (the browser's back button with an evicted cache) need the full page."""
    headers = request.headers
    return (
        headers.get("HX-Request") == "true"
        and headers.get("HX-Boosted") != "true"
        and headers.get("HX-History-Restore-Request") != "true"
    )


def render(
    request: Request,
    page: str,
    context: dict[str, Any],
    *,
    partial: str | None = None,
    status_code: int = 200,
    json_url: str | None = None,
) -> HTMLResponse:
    """The full page, or just `partial` when htmx asks for a fragment."""
    name = partial if partial and is_htmx(request) else page
    ctx = {"json_url": json_url, **context}
    response = templates.TemplateResponse(request, name, ctx, status_code=status_code)
    response.headers["Vary"] = "HX-Request, HX-History-Restore-Request"  # caches keep both
    return response
