"""Teachers: OpenAI-compatible endpoints of a project, and the target itself.

The API key goes in through ``create_teacher`` / ``update_teacher`` and comes out only
through ``endpoint_for`` (what the generation worker calls with); every read model says
"set" / "not set" and at most the last 4 characters.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.lab.secrets import decrypt_key, encrypt_key, last4
from app.models import LabTeacher, Project
from app.schemas.lab import TeacherCreate, TeacherList, TeacherRead, TeacherUpdate
from app.services.errors import BadInput, Conflict, NotFound

TARGET = "target"
LOCAL_URL = "local://target"  # the target teacher without a server: the worker's own model


@dataclass(frozen=True)
class Endpoint:
    """What a client needs to call a teacher. ``repr`` leaves the key out."""

    base_url: str
    model: str
    api_key: str
    max_concurrency: int

    def __repr__(self) -> str:
        return f"Endpoint(base_url={self.base_url!r}, model={self.model!r}, api_key=***)"

    @property
    def local(self) -> bool:
        """The target answering in the worker's own process (no server, no key, no cost
        beyond the price table's entry for the target, usually none)."""
        return self.base_url == LOCAL_URL


def teacher_read(row: LabTeacher) -> TeacherRead:
    return TeacherRead(
        id=row.id,
        project_id=row.project_id,
        name=row.name,
        kind=row.kind,  # type: ignore[arg-type]
        base_url=row.base_url,
        model=row.model,
        api_key="set" if row.api_key_encrypted else "not set",
        api_key_hint=row.api_key_last4,
        max_concurrency=row.max_concurrency,
        tokenizer_path=row.tokenizer_path,
        created_at=row.created_at,
    )


def _project(session: Session, project_id: int) -> Project:
    project = session.get(Project, project_id)
    if project is None:
        raise NotFound(f"project {project_id} not found")
    return project


def ensure_target_teacher(session: Session, *, project_id: int) -> LabTeacher:
    """The built-in teacher ``target``: the project's target model, no key. Without a base URL
    it answers in the worker's own process (``workers.lab.local``, greedy decoding); with
    one (a vLLM or SGLang server for the target) through that server like any teacher."""
    row = session.scalars(
        select(LabTeacher).where(LabTeacher.project_id == project_id, LabTeacher.kind == TARGET)
    ).first()
    if row is None:
        project = _project(session, project_id)
        row = LabTeacher(
            project_id=project_id, name=TARGET, kind=TARGET, model=project.target_model
        )
        session.add(row)
        session.flush()
    return row


def list_teachers(session: Session, *, project_id: int) -> TeacherList:
    ensure_target_teacher(session, project_id=project_id)
    rows = session.scalars(
        select(LabTeacher)
        .where(LabTeacher.project_id == project_id)
        .order_by(LabTeacher.kind.desc(), LabTeacher.name)
    ).all()
    return TeacherList(project_id=project_id, teachers=[teacher_read(r) for r in rows])


def get_teacher_row(session: Session, *, project_id: int, name: str) -> LabTeacher:
    if name == TARGET:
        return ensure_target_teacher(session, project_id=project_id)
    row = session.scalars(
        select(LabTeacher).where(LabTeacher.project_id == project_id, LabTeacher.name == name)
    ).first()
    if row is None:
        raise NotFound(f"no teacher named '{name}' in project {project_id}")
    return row


def create_teacher(session: Session, *, project_id: int, data: TeacherCreate) -> TeacherRead:
    _project(session, project_id)
    name = data.name.strip()
    if name == TARGET:
        raise Conflict(f"'{TARGET}' is the built-in teacher (the target itself); pick another")
    if session.scalars(
        select(LabTeacher.id).where(LabTeacher.project_id == project_id, LabTeacher.name == name)
    ).first():
        raise Conflict(f"a teacher named '{name}' already exists in this project")
    row = LabTeacher(
        project_id=project_id,
        name=name,
        kind="endpoint",
        base_url=data.base_url,
        model=data.model.strip(),
        max_concurrency=data.max_concurrency,
        tokenizer_path=data.tokenizer_path,
    )
    _set_key(row, data.api_key.get_secret_value() if data.api_key else None)
    session.add(row)
    session.flush()
    return teacher_read(row)


def _set_key(row: LabTeacher, plain: str | None) -> None:
    if not plain:
        row.api_key_encrypted, row.api_key_last4 = None, None
        return
    row.api_key_encrypted, row.api_key_last4 = encrypt_key(plain), last4(plain)


def update_teacher(
    session: Session, *, project_id: int, name: str, data: TeacherUpdate
) -> TeacherRead:
    row = get_teacher_row(session, project_id=project_id, name=name)
    if data.base_url is not None:
        moved = (data.base_url or None) != row.base_url
        if moved and row.api_key_encrypted and data.api_key is None:
            raise BadInput(  # else the stored key would go to a host its owner never chose
                "a new base_url needs the API key again (api_key): a stored key is never "
                "sent to another host",
                field="api_key",
            )
        row.base_url = data.base_url
    if data.model is not None:
        if row.kind == TARGET:
            raise BadInput("the target teacher's model is the project's target", field="model")
        row.model = data.model.strip()
    if data.max_concurrency is not None:
        row.max_concurrency = data.max_concurrency
    if data.api_key is not None:
        if row.kind == TARGET:
            raise BadInput("the target teacher takes no API key", field="api_key")
        _set_key(row, data.api_key.get_secret_value())
    session.flush()
    return teacher_read(row)


def delete_teacher(session: Session, *, project_id: int, name: str) -> None:
    from app.models import LabRecipeVersion

    row = get_teacher_row(session, project_id=project_id, name=name)
    if row.kind == TARGET:
        raise Conflict("the target teacher is built in and cannot be deleted")
    used = session.scalars(
        select(LabRecipeVersion.id).where(LabRecipeVersion.teacher_id == row.id)
    ).first()
    if used is not None:
        raise Conflict(f"teacher '{name}' made recipe versions; it stays as their provenance")
    session.delete(row)
    session.flush()


def endpoint_for(row: LabTeacher) -> Endpoint:
    """The teacher as the worker calls it (the only place the key is decrypted)."""
    if not row.base_url:
        if row.kind == TARGET:
            return Endpoint(LOCAL_URL, row.model, "", 1)
        raise BadInput(f"teacher '{row.name}' has no base URL")
    key = decrypt_key(row.api_key_encrypted) if row.api_key_encrypted else "not-needed"
    return Endpoint(row.base_url, row.model, key, row.max_concurrency)
