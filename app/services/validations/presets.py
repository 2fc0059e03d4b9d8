"""The demo's validation preset, sized for a 2-core CPU (under 15 minutes end to end), and
the demo's generated test set (held-out problems from the demo's own generator).

Training recipe (measured with the packaged SmolLM2-135M on the 2-core CPU, 48 demo problems,
100 held-out test problems, untuned 41% correct): at the research learning rate the demo's
few steps change nothing (1 epoch at 2e-4: 41-45% for every strategy; 3 epochs at 2e-4:
34-42%, below the untuned model), so the preset trains 3 epochs at 1e-3 (18 steps of 8),
where the strategies part clearly: terse 85%, exam_style 62%, step_by_step 61%,
verbose_latex 20%, teacher_markdown 15%. A checkpoint every 6 steps gives the validation
curve three points. The page shows these settings next to the button.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.ingest.matching import question_key
from app.models import Project, Question, Strategy
from app.services.scans import shared_question_ids
from app.services.validations.testsets import (
    add_generated_test_set,
    current_test_set,
    leaking_question_ids,
)
from app.specs.training import TrainSettings
from app.specs.validation import ValidationSpec

DEMO_TEST_QUESTIONS = 100
DEMO_TEST_SEED = 1  # the project's problems use seed 0
DEMO_VAL = 16
DEMO_TRAIN = 100
DEMO_STRATEGIES = 3
DEMO_EPOCHS = 3
DEMO_LEARNING_RATE = 1e-3
DEMO_EVAL_EVERY = 6


def add_demo_test_set(session: Session, *, project_id: int, n: int = DEMO_TEST_QUESTIONS) -> None:
    """``n`` generated problems that are not among the project's questions."""
    from app.demo.problems import generate_problems

    taken = set(session.scalars(select(Question.text_key).where(Question.project_id == project_id)))
    items: list[tuple[str, str]] = []
    for p in generate_problems(n * 3 + 200, seed=DEMO_TEST_SEED):
        if question_key(p.question) not in taken:
            taken.add(question_key(p.question))
            items.append((p.question, p.gold))
        if len(items) == n:
            break
    add_generated_test_set(
        session, project_id=project_id, items=items, source="demo", seed=DEMO_TEST_SEED
    )


def demo_preset(session: Session, *, project_id: int) -> ValidationSpec | None:
    """3 strategies (the scan's top 3 when there is a scan), 1 seed, up to 100 training
    examples (what the demo's questions allow), 3 epochs at 1e-3, 100 test questions, short
    answers."""
    project = session.get(Project, project_id)
    test_set = current_test_set(session, project_id=project_id)
    if project is None or test_set is None:
        return None
    from app.services.coverage import sample_only_ids

    out = sample_only_ids(session, project_id=project_id)  # lab samples: too few answers
    ids = [
        sid
        for sid in session.scalars(
            select(Strategy.id).where(Strategy.project_id == project_id).order_by(Strategy.id)
        )
        if sid not in out
    ]
    leaks = leaking_question_ids(session, project_id=project_id, test_set_id=test_set.id)
    shared = [q for q in shared_question_ids(session, strategy_ids=ids) if q not in leaks]
    if len(shared) < 2:
        return None
    val = min(DEMO_VAL, len(shared) // 4)
    train = TrainSettings(
        epochs=DEMO_EPOCHS,
        batch_size=8,
        learning_rate=DEMO_LEARNING_RATE,
        max_length=384,
        val_max_new_tokens=160,
        eval_every=DEMO_EVAL_EVERY,
    )
    from app.services.validations.start import latest_finished_scan

    scan = latest_finished_scan(session, project_id=project_id)
    return ValidationSpec(
        quick="top3" if scan else "none",
        strategy_ids=None if scan else ids[:DEMO_STRATEGIES],
        seeds=1,
        train_examples=min(DEMO_TRAIN, len(shared) - val),
        val_examples=val,
        test_limit=DEMO_TEST_QUESTIONS,
        max_new_tokens=160,
        label="Demo preset (2-core CPU)",
        train=train,
    )
