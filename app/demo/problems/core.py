"""The pieces every demo problem template uses: steps checked exactly, names, items."""

from __future__ import annotations

import ast
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

INSTRUCTION = "Please provide the final answer (a number) at the end, after 'Final Answer:'"


class Step(NamedTuple):
    """One reasoning step: what it finds, the arithmetic, and the (integer) result.

    ``description`` is a lower-case noun phrase that reads well after "the", e.g.
    ``"cost of the notebooks"``; ``expression`` uses ``+ - * /`` with spaces, e.g.
    ``"4 * 3"``.
    """

    description: str
    expression: str
    value: int


@dataclass(frozen=True)
class DemoProblem:
    id: str
    """``demo-0001``, ``demo-0002``, ... in generation order."""
    question: str
    """The problem text, a blank line, the final-answer instruction and a newline
    (the layout of the research data)."""
    gold: str
    """The integer answer as a string, e.g. ``"72"``."""
    steps: tuple[Step, ...]
    """The worked solution, 1 step (warm-ups) or 2 to 4; the last step's value is the answer."""
    topic: str
    """The template it came from, e.g. ``"shopping_change"``."""
    body: str
    """The problem text alone (without the instruction)."""


# --------------------------------------------------------------------------------------
# exact arithmetic

_OPS: dict[type, Callable[[Fraction, Fraction], Fraction]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate(expression: str) -> Fraction:
    """Evaluate an expression of integers, ``+ - * /`` and parentheses, exactly."""

    def ev(node: ast.AST) -> Fraction:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return Fraction(node.value)
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](ev(node.left), ev(node.right))
        raise ValueError(f"unsupported expression: {expression!r}")

    return ev(ast.parse(expression, mode="eval").body)


class _Reject(Exception):
    """The drawn numbers do not give a clean problem; draw again."""


def _step(description: str, expression: str) -> Step:
    value = evaluate(expression)
    if value.denominator != 1 or value <= 0:
        raise _Reject(expression)
    return Step(description, expression, int(value))


# --------------------------------------------------------------------------------------
# vocabulary


class _Person(NamedTuple):
    name: str
    subj: str  # he / she
    obj: str  # him / her
    poss: str  # his / her
    refl: str  # himself / herself
    child: str  # son / daughter


_FEMALE = [
    "Natalia",
    "Maya",
    "Priya",
    "Sofia",
    "Amara",
    "Chloe",
    "Fatima",
    "Hannah",
    "Isabel",
    "Jasmine",
    "Keiko",
    "Lena",
    "Mei",
    "Nadia",
    "Olivia",
    "Rosa",
    "Sara",
    "Tamika",
    "Valentina",
    "Yuki",
    "Zoe",
    "Grace",
    "Ines",
    "Leila",
]
_MALE = [
    "James",
    "Arjun",
    "Carlos",
    "Daniel",
    "Ethan",
    "Farid",
    "Gabriel",
    "Hiro",
    "Ivan",
    "Jamal",
    "Kofi",
    "Liam",
    "Mateo",
    "Noah",
    "Omar",
    "Pedro",
    "Rahul",
    "Samuel",
    "Tariq",
    "Victor",
    "Wei",
    "Yusuf",
    "Diego",
    "Felix",
]


def _people(rng: random.Random, k: int) -> list[_Person]:
    out = []
    for name in rng.sample(_FEMALE + _MALE, k):
        if name in _FEMALE:
            out.append(_Person(name, "she", "her", "her", "herself", "daughter"))
        else:
            out.append(_Person(name, "he", "him", "his", "himself", "son"))
    return out


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


# (singular, plural, min price, max price) in dollars
_SCHOOL_ITEMS = [
    ("notebook", "notebooks", 2, 6),
    ("pen", "pens", 1, 3),
    ("box of crayons", "boxes of crayons", 3, 7),
    ("ruler", "rulers", 1, 4),
    ("folder", "folders", 1, 3),
    ("marker", "markers", 2, 4),
    ("glue stick", "glue sticks", 1, 3),
    ("sketchbook", "sketchbooks", 5, 12),
]
_GROCERIES = [
    ("bag of apples", "bags of apples", 3, 7),
    ("loaf of bread", "loaves of bread", 2, 5),
    ("carton of milk", "cartons of milk", 2, 4),
    ("box of cereal", "boxes of cereal", 3, 6),
    ("jar of honey", "jars of honey", 5, 9),
    ("bunch of bananas", "bunches of bananas", 1, 3),
    ("pack of cheese", "packs of cheese", 4, 8),
    ("bottle of juice", "bottles of juice", 2, 5),
]
_SALE_ITEMS = [
    ("jacket", "jackets", 40, 160),
    ("pair of shoes", "pairs of shoes", 40, 120),
    ("lamp", "lamps", 20, 80),
    ("board game", "board games", 20, 60),
    ("backpack", "backpacks", 20, 80),
    ("sweater", "sweaters", 20, 80),
    ("pair of headphones", "pairs of headphones", 40, 200),
]
_BIG_PURCHASES = [
    ("bike", 120, 400),
    ("video game console", 200, 500),
    ("guitar", 150, 450),
    ("tablet", 200, 480),
    ("skateboard", 60, 180),
    ("telescope", 150, 360),
    ("pair of roller skates", 60, 150),
]
_PRICED_SERVICES = [
    ("bag of coffee", "bags of coffee", 8, 24),
    ("movie ticket", "movie tickets", 8, 20),
    ("large pizza", "large pizzas", 10, 24),
    ("monthly bus pass", "monthly bus passes", 20, 60),
    ("yoga class", "yoga classes", 10, 30),
    ("box of printer paper", "boxes of printer paper", 20, 40),
    ("car wash", "car washes", 8, 20),
]
_STORES = ["store", "shop", "department store", "sports shop", "mall outlet"]
_COLLECTIBLES = ["marbles", "stickers", "baseball cards", "seashells", "stamps", "coins"]
_CITIES = ["the coast", "her grandmother's town", "the lake", "the mountains", "the city"]
_PLACES = ["zoo", "aquarium", "science museum", "water park", "circus", "planetarium"]


def _hours(h: int) -> str:
    return "1 hour" if h == 1 else f"{h} hours"


def _money_bill(total: int) -> int:
    for bill in (10, 20, 50, 100):
        if bill > total:
            return bill
    raise _Reject("too expensive")


# --------------------------------------------------------------------------------------
# templates: each takes the random generator and returns (problem text, steps)

_Template = Callable[[random.Random], tuple[str, list[Step]]]
