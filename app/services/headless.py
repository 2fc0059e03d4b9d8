"""Import a headless run: a ``results.json`` written by ``familiar scan`` becomes a scan of
the project, stored by the worker's own save (app.scans.store), so it has the same values,
aggregates, report and pages as a scan run in the dashboard.

The file's question keys (``id:<uploaded id>`` or ``q:<normalised text key>``, a repeat
``#2``, ``#3``...) resolve to the project's questions; the strategies must be the project's.
Anything that does not match refuses the whole file, naming the field, before anything is
written.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import get_settings
from app.ingest.read import check_size
from app.ingest.records import UploadError
from app.models import Question, Response, Scan, Strategy
from app.scans.output import ScanOutput
from app.scans.store import own_answers_settings_key, save_scan_result
from app.schemas.scans import ScanRead
from app.services.projects import get_project_row
from app.services.scans import scan_read
from app.specs.scan import ScanInputError, ScanSpec


class KeyResolver:
    """``familiar scan`` question keys -> the project's question ids."""

    def __init__(self, session: Session, project_id: int) -> None:
        rows = session.execute(
            select(Question.id, Question.external_id, Question.text_key)
            .where(Question.project_id == project_id)
            .order_by(Question.position)
        ).all()
        self.by_id = {ext: qid for qid, ext, _ in rows if ext}
        self.by_text: dict[str, list[int]] = defaultdict(list)
        for qid, _, key in rows:
            self.by_text[key].append(qid)

    def find(self, key: str) -> int | None:
        if key.startswith("id:"):
            return self.by_id.get(key[3:])
        if key.startswith("q:"):
            base, _, n = key[2:].partition("#")
            found = self.by_text.get(base, [])
            i = int(n) - 1 if n.isdigit() else 0
            return found[i] if 0 <= i < len(found) else None
        return None


def _load(filename: str, data: bytes) -> tuple[dict[str, Any], ScanOutput]:
    try:
        raw = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise UploadError(filename, f"not a JSON file: {exc}", line=line) from None
    if not isinstance(raw, dict) or "values" not in raw or "sample" not in raw:
        message = "not a results.json of `familiar scan` (it needs 'sample' and 'values')"
        raise UploadError(filename, message)
    try:
        return raw, ScanOutput.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        raise UploadError(filename, str(err["msg"]), field=where) from None


def _spec(filename: str, settings: dict[str, Any], strategy_ids: list[int]) -> ScanSpec:
    known = {k: v for k, v in settings.items() if k in ScanSpec.model_fields}
    try:
        return ScanSpec(**(known | {"strategy_ids": strategy_ids}))
    except ScanInputError as exc:
        raise UploadError(filename, f"settings: {exc}", field="settings") from None


def _strategies(
    session: Session, filename: str, project_id: int, output: ScanOutput
) -> dict[str, int]:
    ids = dict(
        session.execute(
            select(Strategy.name, Strategy.id).where(Strategy.project_id == project_id)
        ).all()
    )
    for name in output.values:
        if name not in ids:
            some = ", ".join(sorted(ids)[:8]) or "none yet"
            message = f"strategy '{name}' is not in this project (strategies: {some})"
            raise UploadError(filename, message, field=f"values.{name}")
    return {name: ids[name] for name in output.values}


def _question_map(
    filename: str, raw: dict[str, Any], output: ScanOutput, resolver: KeyResolver
) -> dict[str, int]:
    """Every sampled key -> question id; a key that does not resolve refuses the file."""
    texts = raw.get("questions") or {}
    out: dict[str, int] = {}
    for key in output.sample:
        qid = resolver.find(key)
        if qid is None:
            text = str((texts.get(key) or {}).get("text", ""))[:80]
            message = f"question {key!r} ({text!r}) is not in this project"
            raise UploadError(filename, message, field="sample")
        out[key] = qid
    return out


def _check_responses(
    session: Session, filename: str, names: dict[str, int], qmap: dict[str, int]
) -> None:
    have = set(
        session.execute(
            select(Response.strategy_id, Response.question_id).where(
                Response.strategy_id.in_(list(names.values()))
            )
        ).tuples()
    )
    for name, sid in names.items():
        for key, qid in qmap.items():
            if (sid, qid) not in have:
                message = f"strategy '{name}' has no response to question {key!r} here"
                raise UploadError(filename, message, field=f"values.{name}")


def _remap(
    output: ScanOutput, qmap: dict[str, int], resolver: KeyResolver, spec: dict[str, Any]
) -> ScanOutput:
    """The same output keyed by the project's question ids (as the worker stores it), its
    settings with the model and strategies resolved as a dashboard scan's are."""
    data = output.model_dump(mode="json")
    data["settings"] = data["settings"] | {k: spec[k] for k in ("model", "strategy_ids")}

    def key(k: str) -> str:
        return str(qmap[k])

    data["sample"] = [key(k) for k in output.sample]
    data["samples"] = [[key(k) for k in s] for s in output.samples]
    data["exemplars"] = {key(k): v for k, v in output.exemplars.items() if k in qmap}
    data["exemplar_sources"] = {
        key(k): [str(resolver.find(s) or s) for s in v]
        for k, v in output.exemplar_sources.items()
        if k in qmap
    }
    own = {resolver.find(k): a for k, a in output.own_answers.items()}
    data["own_answers"] = {str(q): a for q, a in own.items() if q is not None}
    for metrics in data["values"].values():
        for rows in metrics.values():
            for row in rows:
                row["question_key"] = key(row["question_key"])
    data.pop("questions", None)
    data.pop("files", None)
    return ScanOutput.model_validate(data)


def import_results(session: Session, *, project_id: int, filename: str, data: bytes) -> ScanRead:
    """Store the file as a finished scan of the project (flushes; the route commits)."""
    project = get_project_row(session, project_id=project_id)
    check_size(filename, len(data), get_settings().max_upload_bytes)
    raw, output = _load(filename, data)
    names = _strategies(session, filename, project_id, output)
    resolver = KeyResolver(session, project_id)
    qmap = _question_map(filename, raw, output, resolver)
    _check_responses(session, filename, names, qmap)
    spec = _spec(filename, output.settings, sorted(names.values()))
    model = str(spec.model or output.model.get("name") or project.target_model)
    resolved = spec.model_copy(update={"model": model}).to_dict()
    scan = Scan(project_id=project_id, model_name=model, spec=resolved)
    session.add(scan)
    session.flush()
    remapped = _remap(output, qmap, resolver, resolved)
    save_scan_result(
        session,
        scan_id=scan.id,
        output=remapped,
        model_key=str(output.model.get("model_key", "")),
        seed=spec.seed,
        own_answers_key=own_answers_settings_key(remapped),
    )
    scan.summary = (scan.summary or {}) | {
        "imported": {
            "filename": filename,
            "sha256": hashlib.sha256(data).hexdigest(),
            "imported_at": datetime.now(UTC).isoformat(),
            "files": raw.get("files") or [],
        }
    }
    session.flush()
    return scan_read(session, scan)
