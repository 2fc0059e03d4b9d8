"""Grade-school arithmetic word problems (GSM8K-like) for the demo data set.

Every problem comes from one of a few dozen templates filled with random names, items and
numbers from a seeded :class:`random.Random`, so the same ``seed`` always gives the same
problems. Each problem carries its worked solution as a short list of steps
``(description, expression, value)``; the expressions are plain arithmetic over integers
(``+ - * /`` and parentheses) and every step value is a positive integer, which
:func:`evaluate` checks exactly (with fractions) when the step is built. The pieces are in
``core``, the templates in ``money`` and ``everyday``.
"""

from __future__ import annotations

import random

from app.demo.problems.core import (
    INSTRUCTION,
    DemoProblem,
    Step,
    _people,
    _Reject,
    _step,
    _Template,
    evaluate,
)
from app.demo.problems.everyday import (
    _aquarium_fish,
    _bake_sale,
    _baking,
    _bus_trip,
    _collection_compare,
    _farm_legs,
    _fruit_basket,
    _fuel_cost,
    _harvest,
    _library,
    _pencil_packs,
    _phone_plans,
    _reading,
    _rent_split,
    _stamps_half,
    _tickets,
    _water_tank,
    _workout,
)
from app.demo.problems.money import (
    _ages_future,
    _ages_past,
    _ages_sum,
    _allowance,
    _cupcake_order,
    _discount,
    _fence_posts,
    _floor_tiles,
    _garden_seed,
    _machine_rate,
    _painting,
    _percent_class,
    _pizza_slices,
    _price_increase,
    _salary_raise,
    _same_speed,
    _savings_goal,
    _savings_weeks,
    _share_candies,
    _shopping_change,
    _train_minutes,
    _travel_distance,
    _two_workers,
    _wages,
)

__all__ = [
    "INSTRUCTION",
    "MULTI_STEP_EVERY",
    "TEMPLATES",
    "DemoProblem",
    "Step",
    "_people",
    "_step",
    "evaluate",
    "generate_problems",
]


TEMPLATES: dict[str, _Template] = {
    "shopping_change": _shopping_change,
    "cupcake_order": _cupcake_order,
    "discount": _discount,
    "travel_distance": _travel_distance,
    "train_minutes": _train_minutes,
    "same_speed": _same_speed,
    "share_candies": _share_candies,
    "pizza_slices": _pizza_slices,
    "ages_sum": _ages_sum,
    "ages_future": _ages_future,
    "ages_past": _ages_past,
    "percent_class": _percent_class,
    "salary_raise": _salary_raise,
    "price_increase": _price_increase,
    "machine_rate": _machine_rate,
    "two_workers": _two_workers,
    "painting": _painting,
    "garden_seed": _garden_seed,
    "fence_posts": _fence_posts,
    "floor_tiles": _floor_tiles,
    "savings_weeks": _savings_weeks,
    "savings_goal": _savings_goal,
    "allowance": _allowance,
    "wages": _wages,
    "baking": _baking,
    "farm_legs": _farm_legs,
    "reading": _reading,
    "fuel_cost": _fuel_cost,
    "fruit_basket": _fruit_basket,
    "pencil_packs": _pencil_packs,
    "harvest": _harvest,
    "tickets": _tickets,
    "collection_compare": _collection_compare,
    "water_tank": _water_tank,
    "bus_trip": _bus_trip,
    "bake_sale": _bake_sale,
    "workout": _workout,
    "phone_plans": _phone_plans,
    "stamps_half": _stamps_half,
    "library": _library,
    "rent_split": _rent_split,
    "aquarium_fish": _aquarium_fish,
}
"""Problem templates by topic name, in a fixed order."""

_MAX_TRIES = 200


MULTI_STEP_EVERY = 8
"""Every 8th problem is a multi-step one (:data:`TEMPLATES`), the others one-step warm-ups
(:data:`app.demo.warmup.WARMUP_TEMPLATES`): calibrated so that the packaged 135M target
answers about a third of the demo right zero-shot (see tests/demo/test_calibration.py)."""


class _Rotation:
    """Topics of one tier in a seeded order, reshuffled after every full round."""

    def __init__(self, names: list[str], rng: random.Random) -> None:
        self.names, self.rng, self.order = names, rng, list[str]()

    def next(self) -> str:
        if not self.order:
            self.order = self.names[:]
            self.rng.shuffle(self.order)
        return self.order.pop()


def generate_problems(n: int, *, seed: int = 0) -> list[DemoProblem]:
    """``n`` distinct word problems, the same ones for the same ``seed``.

    Problem i is multi-step when ``i % MULTI_STEP_EVERY == MULTI_STEP_EVERY - 1``, else a
    one-step warm-up. Within each tier topics rotate through all its templates (in a seeded
    order, reshuffled every round) so that any prefix of the list is varied; no two
    problems share the same question text.
    """
    from app.demo.warmup import WARMUP_TEMPLATES

    if n < 0:
        raise ValueError("n must be >= 0")
    rng = random.Random(f"familiar-demo:{seed}")
    templates = {**WARMUP_TEMPLATES, **TEMPLATES}
    tiers = (_Rotation(list(WARMUP_TEMPLATES), rng), _Rotation(list(TEMPLATES), rng))
    seen: set[str] = set()
    out: list[DemoProblem] = []
    while len(out) < n:
        topic = tiers[len(out) % MULTI_STEP_EVERY == MULTI_STEP_EVERY - 1].next()
        for _ in range(_MAX_TRIES):
            try:
                body, steps = templates[topic](rng)
            except _Reject:
                continue
            if body not in seen and 1 <= len(steps) <= 4:
                break
        else:  # pragma: no cover - every template succeeds far more often than this
            raise RuntimeError(f"template {topic!r} failed {_MAX_TRIES} times")
        seen.add(body)
        gold = steps[-1].value
        out.append(
            DemoProblem(
                id=f"demo-{len(out) + 1:04d}",
                question=f"{body}\n\n{INSTRUCTION}\n",
                gold=str(gold),
                steps=tuple(steps),
                topic=topic,
                body=body,
            )
        )
    return out
