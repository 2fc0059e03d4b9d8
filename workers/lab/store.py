"""The engine's store in the database: ``lab_answers`` (the cache) and ``lab_faults``.

Each answer and fault is committed on its own, the moment it arrives: a worker killed
mid-run loses nothing it had paid for. Two runs that race for the same key keep the first
answer (the unique cache key refuses the second; nothing else changes).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.db import session_scope
from app.lab.plan import RuleAnswer
from app.lab.types import Answer, Fault, LabRequest
from app.models import LabAnswer, LabFault

CHUNK = 500


class DbStore:
    def __init__(self, *, project_id: int, job_id: int | None) -> None:
        self.project_id, self.job_id = project_id, job_id

    def cached_keys(self, keys: list[str]) -> set[str]:
        found: set[str] = set()
        with session_scope() as session:
            for start in range(0, len(keys), CHUNK):
                chunk = keys[start : start + CHUNK]
                found |= set(
                    session.scalars(
                        select(LabAnswer.cache_key).where(LabAnswer.cache_key.in_(chunk))
                    )
                )
        return found

    def _insert(self, row: LabAnswer) -> bool:
        try:
            with session_scope() as session:
                session.add(row)
        except IntegrityError:
            return False
        return True

    def save_answer(self, req: LabRequest, answer: Answer) -> None:
        self._insert(
            LabAnswer(
                cache_key=req.cache_key,
                project_id=self.project_id,
                recipe_version_id=req.recipe_version_id,
                question_id=req.question_id,
                job_id=self.job_id,
                raw_text=answer.raw_text,
                text=answer.text,
                finish_reason=answer.finish_reason,
                prompt_tokens=answer.prompt_tokens,
                completion_tokens=answer.completion_tokens,
                cost=answer.cost,
                flags=list(answer.flags),
            )
        )

    def save_rule_answer(self, rule: RuleAnswer) -> bool:
        from app.lab.types import flags_for

        return self._insert(
            LabAnswer(
                cache_key=rule.cache_key,
                project_id=self.project_id,
                recipe_version_id=rule.recipe_version_id,
                question_id=rule.question_id,
                job_id=self.job_id,
                raw_text=rule.text,
                text=rule.text,
                finish_reason="rule",
                prompt_tokens=0,
                completion_tokens=0,
                cost=0.0,
                flags=list(flags_for(rule.text, None)),
            )
        )

    def save_fault(self, req: LabRequest, fault: Fault) -> None:
        with session_scope() as session:
            session.add(
                LabFault(
                    job_id=self.job_id,
                    recipe_version_id=req.recipe_version_id,
                    question_id=req.question_id,
                    kind=fault.kind,
                    attempt=fault.attempt,
                    detail=fault.detail,
                    extra=fault.extra,
                )
            )
