"""Studies: create, edit, list, delete, and the form that picks their projects."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Accuracy, Project, Study, StudyProject, User
from app.schemas.studies import (
    CandidateProject,
    StudyCreate,
    StudyForm,
    StudyList,
    StudyRead,
    StudyUpdate,
)
from app.services.errors import BadInput, NotFound
from app.services.studies.sources import projects_metric_scores
from app.stats.studies import DEFAULT_THRESHOLDS


def get_study_row(session: Session, *, study_id: int) -> Study:
    study = session.get(Study, study_id)
    if study is None:
        raise NotFound(f"study {study_id} not found")
    return study


def study_project_ids(session: Session, *, study_id: int) -> list[int]:
    return list(
        session.scalars(
            select(StudyProject.project_id)
            .where(StudyProject.study_id == study_id)
            .order_by(StudyProject.position, StudyProject.id)
        )
    )


def study_read(session: Session, study: Study) -> StudyRead:
    creator = session.get(User, study.created_by_id) if study.created_by_id else None
    return StudyRead(
        id=study.id,
        name=study.name,
        description=study.description,
        thresholds=[float(t) for t in study.thresholds or []],
        project_ids=study_project_ids(session, study_id=study.id),
        created_by=creator.username if creator else None,
        created_at=study.created_at,
        updated_at=study.updated_at,
    )


def _set_projects(
    session: Session, study: Study, project_ids: list[int], allowed: set[int] | None
) -> None:
    """`allowed`: the projects the user may read (None: all); others read as unknown."""
    ids = list(dict.fromkeys(project_ids))
    found = set(session.scalars(select(Project.id).where(Project.id.in_(ids)))) if ids else set()
    unknown = [i for i in ids if i not in found or (allowed is not None and i not in allowed)]
    if unknown:
        raise BadInput(f"no project with id {', '.join(map(str, unknown))}", field="project_ids")
    session.execute(delete(StudyProject).where(StudyProject.study_id == study.id))
    session.add_all(
        StudyProject(study_id=study.id, project_id=pid, position=i) for i, pid in enumerate(ids)
    )


def create_study(
    session: Session,
    *,
    data: StudyCreate,
    created_by_id: int | None,
    allowed: set[int] | None = None,
) -> Study:
    study = Study(
        name=data.name,
        description=data.description.strip(),
        thresholds=list(data.thresholds),
        created_by_id=created_by_id,
    )
    session.add(study)
    session.flush()
    _set_projects(session, study, data.project_ids, allowed)
    session.flush()
    return study


def update_study(
    session: Session, *, study_id: int, data: StudyUpdate, allowed: set[int] | None = None
) -> Study:
    study = get_study_row(session, study_id=study_id)
    if data.name is not None:
        if not data.name.strip():
            raise BadInput("a name is required", field="name")
        study.name = data.name.strip()
    if data.description is not None:
        study.description = data.description.strip()
    if data.thresholds is not None:
        study.thresholds = list(data.thresholds)
    if data.project_ids is not None:
        _set_projects(session, study, data.project_ids, allowed)
    study.updated_at = datetime.now(UTC)
    session.flush()
    return study


def delete_study(session: Session, *, study_id: int) -> None:
    session.delete(get_study_row(session, study_id=study_id))
    session.flush()


def list_studies(session: Session, *, allowed: set[int] | None = None) -> StudyList:
    """Every study, or with `allowed` only those whose projects are all among them."""
    rows = session.scalars(select(Study).order_by(Study.id.desc())).all()
    studies = [study_read(session, s) for s in rows]
    if allowed is not None:
        studies = [s for s in studies if set(s.project_ids) <= allowed]
    return StudyList(studies=studies)


def study_form(
    session: Session, *, study_id: int | None = None, allowed: set[int] | None = None
) -> StudyForm:
    """Every project (readable by the user: `allowed`), with how many strategies have
    accuracies and what its scan measured."""
    study = study_read(session, get_study_row(session, study_id=study_id)) if study_id else None
    chosen = set(study.project_ids) if study else set()
    with_acc = dict(
        session.execute(
            select(Accuracy.project_id, func.count(func.distinct(Accuracy.strategy_id))).group_by(
                Accuracy.project_id
            )
        ).all()
    )
    projects = [
        row
        for row in session.execute(
            select(Project.id, Project.name, Project.target_model).order_by(Project.id.desc())
        ).all()
        if allowed is None or row[0] in allowed
    ]
    scores = projects_metric_scores(session, [pid for pid, _, _ in projects])
    return StudyForm(
        study=study,
        projects=[
            CandidateProject(
                id=pid,
                name=name,
                target_model=model,
                n_with_accuracy=with_acc.get(pid, 0),
                metrics=sorted(scores[pid]),
                selected=pid in chosen,
            )
            for pid, name, model in projects
        ],
        default_thresholds=list(DEFAULT_THRESHOLDS),
    )
