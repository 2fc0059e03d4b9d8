"""One-step warm-up word problems: the share of the demo a 135M model can solve.

Calibration (decision): the packaged SmolLM2-135M-Instruct solves about 2% of the
multi-step templates in :mod:`app.demo.problems` zero-shot, which leaves SPPL without
correct own answers to use as examples. Measured on the same prompt and judge as the
own-answers job, it solves roughly 20-65% of single-operation problems with one-digit
numbers, depending on the phrasing (and about 0% of two-step ones, of divisions, and
10% of subtractions), so most demo problems are these. Every template here is ONE
addition or multiplication of numbers up to 6, phrased plainly (the phrasings kept are the
ones it solved most often when measured); the styles still render them differently (see
:mod:`app.demo.styles`).
"""

from __future__ import annotations

import random

from app.demo.problems import Step, _people, _step

_THINGS = ["apples", "pencils", "stickers", "marbles", "books", "cookies", "shells", "cards"]


def _thing(rng: random.Random) -> str:
    return rng.choice(_THINGS)


def _buy_more(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b, t = rng.randint(1, 6), rng.randint(1, 5), _thing(rng)
    text = f"{p.name} has {a} {t} and buys {b} more. How many {t} does {p.subj} have now?"
    return text, [_step(f"number of {t} {p.name} has now", f"{a} + {b}")]


def _together(rng: random.Random) -> tuple[str, list[Step]]:
    p, q = _people(rng, 2)
    a, b, t = rng.randint(1, 6), rng.randint(1, 6), _thing(rng)
    text = f"{p.name} has {a} {t}. {q.name} has {b} {t}. How many {t} do they have altogether?"
    return text, [_step(f"number of {t} they have altogether", f"{a} + {b}")]


def _picked(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b = rng.randint(1, 6), rng.randint(1, 6)
    fruit = rng.choice(["apples", "strawberries", "plums", "lemons", "pears"])
    text = (
        f"{p.name} picks {a} {fruit} in the morning and {b} {fruit} in the afternoon. "
        f"How many {fruit} does {p.subj} pick in all?"
    )
    return text, [_step(f"number of {fruit} picked", f"{a} + {b}")]


def _pets(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b = rng.randint(1, 5), rng.randint(1, 5)
    one, two = rng.sample(["dogs", "cats", "rabbits", "fish", "birds", "hamsters"], 2)
    text = f"{p.name} has {a} {one} and {b} {two}. How many pets does {p.subj} have?"
    return text, [_step("number of pets", f"{a} + {b}")]


def _bags(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b, t = rng.randint(2, 5), rng.randint(2, 5), _thing(rng)
    text = f"{p.name} buys {a} bags of {t}. Each bag has {b} {t}. How many {t} does {p.subj} buy?"
    return text, [_step(f"number of {t} in the bags", f"{a} * {b}")]


def _each_friend(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b, t = rng.randint(2, 5), rng.randint(2, 5), _thing(rng)
    text = f"{p.name} gives {b} {t} to each of {a} friends. How many {t} does {p.subj} give away?"
    return text, [_step(f"number of {t} given away", f"{a} * {b}")]


def _boxes(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b, t = rng.randint(2, 5), rng.randint(2, 5), _thing(rng)
    text = f"{p.name} has {a} boxes. Each box holds {b} {t}. How many {t} are in all the boxes?"
    return text, [_step(f"number of {t} in all the boxes", f"{a} * {b}")]


def _balloons(rng: random.Random) -> tuple[str, list[Step]]:
    a, b = rng.randint(1, 6), rng.randint(1, 6)
    one, two = rng.sample(["red", "blue", "green", "yellow", "white"], 2)
    thing = rng.choice(["balloons", "cars", "flowers", "hats"])
    text = f"There are {a} {one} {thing} and {b} {two} {thing}. How many {thing} are there?"
    return text, [_step(f"number of {thing}", f"{a} + {b}")]


WARMUP_TEMPLATES = {
    "buy_more": _buy_more,
    "together": _together,
    "picked": _picked,
    "pets": _pets,
    "bags": _bags,
    "each_friend": _each_friend,
    "boxes": _boxes,
    "balloons": _balloons,
}
"""One-step templates by topic name, in a fixed order."""
