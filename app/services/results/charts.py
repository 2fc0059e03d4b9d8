"""The JSON a page embeds for its charts: only the stored, capped payloads it draws.

Pages embed it as ``<script type="application/json" id="report-data">{{ charts | tojson }}``
(Jinja's tojson escapes <, > and &, so no user text can end the script element);
static/js/charts.js reads it and draws with ECharts.
"""

from __future__ import annotations

from typing import Any

from app.metrics import registry
from app.schemas.results import PairedPage, ResultPage


def result_chart(page: ResultPage) -> dict[str, Any] | None:
    """Distributions and win rates of the page's metric, with the question texts they name."""
    report = page.report
    if not report or page.metric is None:
        return None
    data = report.per_metric[page.metric]
    dist = data.distributions
    keys = set(dist["scatter"]["keys"])
    for box in dist["box"].values():
        keys.update(o["key"] for o in box["outliers"])
    base = f"/projects/{page.project.id}/scans/{page.scan.id}"
    return {
        "kind": "result",
        "metric": page.metric,
        "label": data.label,
        "lower_is_better": data.lower_is_better,
        "scale": page.scale,
        "flag": _flag(page.metric, data.label),
        "order": data.order,
        "colors": page.colors,
        "box": dist["box"],
        "scatter": dist["scatter"],
        "histogram": dist["histogram"],
        "ecdf": dist["ecdf"],
        "win_rate": data.win_rate,
        "snippets": {k: page.snippets[k] for k in keys if k in page.snippets},
        "urls": {"question": f"{base}/questions/", "paired": f"{base}/paired"},
    }


def _flag(metric: str, label: str) -> dict[str, Any] | None:
    """The metric's flag threshold, drawn as a line (IFD = 1)."""
    info = registry.info(metric)
    if info is None or info.flag is None:
        return None
    return {"threshold": info.flag.threshold, "label": label}


def paired_chart(page: PairedPage) -> dict[str, Any]:
    """The A-versus-B scatter (capped points, each with its question)."""
    base = f"/projects/{page.project.id}/scans/{page.scan.id}"
    return {
        "kind": "paired",
        "metric": page.metric,
        "label": page.label,
        "lower_is_better": page.lower_is_better,
        "scale": page.scale,
        "a": page.a,
        "b": page.b,
        "points": page.points.model_dump(),
        "snippets": page.snippets,
        "urls": {"question": f"{base}/questions/"},
    }
