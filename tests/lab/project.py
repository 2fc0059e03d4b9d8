"""A lab project for the tests: GSM8K-style questions, a teacher behind a URL, recipes."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import SecretStr
from sqlalchemy.orm import Session

from app.lab import budget as lab_budget
from app.lab import recipes as lab_recipes
from app.lab import samples as lab_samples
from app.lab import teachers as lab_teachers
from app.lab.plan import Plan, plan_sample
from app.models import Job, Project, Question
from app.schemas.lab import PriceSet, RecipeCreate, TeacherCreate
from app.specs.lab import LabSampleCreate

QUESTIONS = [
    ("Tom has 3 apples and buys 4 more. How many apples does he have?", "3 + 4 = 7\n#### 7"),
    ("A box holds 6 eggs. How many eggs are in 2 boxes?", "6 * 2 = 12\n#### 12"),
    ("Sara had 10 pens and gave away 3. How many are left?", "10 - 3 = 7\n#### 7"),
    ("What is 15 divided by 5?", "15 / 5 = 3\n#### 3"),
    ("A car has 4 wheels. How many wheels do 3 cars have?", "4 * 3 = 12\n#### 12"),
    ("Ann reads 2 pages a day for 5 days. How many pages?", "2 * 5 = 10\n#### 10"),
]
KEY = "sk-lab-test-DO-NOT-LEAK-1234567890abcdef"


@dataclass
class LabProject:
    project_id: int
    question_ids: list[int]
    version_ids: list[int]

    def plan(self, session: Session, *, decrypt: bool = True) -> Plan:
        return plan_sample(
            session,
            project_id=self.project_id,
            version_ids=self.version_ids,
            question_ids=self.question_ids,
            decrypt=decrypt,
        )


def make_lab_project(
    session: Session,
    *,
    base_url: str,
    model: str,
    tokenizer: str | None = None,
    price: tuple[float, float] | None = (1.0, 2.0),
    max_tokens: int = 16,
    concurrency: int = 2,
) -> LabProject:
    project = Project(name="lab", target_model="packaged:SmolLM2-135M-Instruct")
    session.add(project)
    session.flush()
    qids = []
    for i, (text, gold) in enumerate(QUESTIONS):
        q = Question(project_id=project.id, text_key=f"q{i}", text=text, gold=gold, position=i)
        session.add(q)
        session.flush()
        qids.append(q.id)
    teacher = TeacherCreate(
        name="local",
        base_url=base_url,
        model=model,
        api_key=SecretStr(KEY),
        max_concurrency=concurrency,
        tokenizer_path=tokenizer,
    )
    lab_teachers.create_teacher(session, project_id=project.id, data=teacher)
    if price is not None:
        cost = PriceSet(model=model, prompt_per_mtok=price[0], completion_per_mtok=price[1])
        lab_budget.set_price(session, project_id=project.id, data=cost)
    versions = []
    for name in ("direct", "step_by_step"):
        preset = lab_recipes.preset(name, teacher="local")
        data = RecipeCreate(name=name, **preset.model_dump() | {"max_tokens": max_tokens})
        versions.append(lab_recipes.save_recipe(session, project_id=project.id, data=data))
    session.commit()
    return LabProject(project.id, qids, [v.latest.id for v in versions])


def run_sample(session: Session, project_id: int, ask: LabSampleCreate) -> Job:
    """Start the sample and run its job here, as a worker would; the job row, succeeded."""
    from workers.tasks import run_job

    job = lab_samples.start_sample(session, project_id=project_id, data=ask)
    session.commit()
    run_job(job.id)
    session.expire_all()
    row = session.get(Job, job.id)
    assert row is not None and row.status == "succeeded", row.error if row else None
    return row
