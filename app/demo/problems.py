"""Grade-school arithmetic word problems (GSM8K-like) for the demo data set.

Every problem comes from one of a few dozen templates filled with random names, items and
numbers from a seeded :class:`random.Random`, so the same ``seed`` always gives the same
problems. Each problem carries its worked solution as a short list of steps
``(description, expression, value)``; the expressions are plain arithmetic over integers
(``+ - * /`` and parentheses) and every step value is a positive integer, which
:func:`evaluate` checks exactly (with fractions) when the step is built.
"""

from __future__ import annotations

import ast
import operator
import random
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from typing import NamedTuple

__all__ = [
    "INSTRUCTION",
    "TEMPLATES",
    "DemoProblem",
    "Step",
    "evaluate",
    "generate_problems",
]

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


def _shopping_change(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    (s1, pl1, lo1, hi1), (s2, pl2, lo2, hi2) = rng.sample(
        rng.choice([_SCHOOL_ITEMS, _GROCERIES]), 2
    )
    n1, n2 = rng.randint(2, 6), rng.randint(2, 5)
    c1, c2 = rng.randint(lo1, hi1), rng.randint(lo2, hi2)
    a = _step(f"cost of the {pl1}", f"{n1} * {c1}")
    b = _step(f"cost of the {pl2}", f"{n2} * {c2}")
    t = _step("total cost", f"{a.value} + {b.value}")
    bill = _money_bill(t.value)
    ch = _step("change", f"{bill} - {t.value}")
    text = (
        f"{p.name} buys {n1} {pl1} for ${c1} each and {n2} {pl2} for ${c2} each. "
        f"{_cap(p.subj)} pays with a ${bill} bill. "
        f"How much change, in dollars, does {p.subj} get back?"
    )
    return text, [a, b, t, ch]


def _cupcake_order(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    boxes, per_box, price = rng.randint(2, 8), rng.choice([4, 6, 8, 12]), rng.randint(2, 4)
    treat = rng.choice(["cupcakes", "muffins", "donuts", "cookies"])
    event = rng.choice(["a birthday party", "a school picnic", "an office meeting", "a bake-off"])
    n = _step(f"number of {treat}", f"{boxes} * {per_box}")
    c = _step("cost of the order", f"{n.value} * {price}")
    text = (
        f"{p.name} orders {boxes} boxes of {treat} for {event}. Each box holds {per_box} "
        f"{treat}, and each one costs ${price}. How many dollars does the order cost?"
    )
    return text, [n, c]


def _discount(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    sing, plural, lo, hi = rng.choice(_SALE_ITEMS)
    pct = rng.choice([10, 20, 25, 30, 40, 50])
    price = rng.randrange(lo, hi + 1, 10 if pct in (10, 30) else 20)
    if pct == 25:
        price = rng.randrange(lo, hi + 1, 4) // 4 * 4
    k = rng.randint(2, 4)
    d = _step(f"discount on one {sing}", f"{price} * {pct} / 100")
    s = _step(f"sale price of one {sing}", f"{price} - {d.value}")
    t = _step(f"cost of {k} {plural}", f"{k} * {s.value}")
    store = rng.choice(_STORES)
    text = (
        f"A {store} is having a {pct}% off sale. A {sing} normally costs ${price}. "
        f"{p.name} buys {k} {plural} during the sale. How many dollars does {p.subj} pay?"
    )
    return text, [d, s, t]


def _travel_distance(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    if rng.random() < 0.6:
        verb, v1, v2 = "drives", rng.randrange(40, 101, 5), rng.randrange(40, 101, 5)
    else:
        verb, v1, v2 = "cycles", rng.randint(10, 24), rng.randint(10, 24)
    unit = rng.choice(["kilometers", "miles"])
    t1, t2 = rng.randint(1, 4), rng.randint(1, 3)
    if v1 == v2:
        raise _Reject("same speed")
    a = _step("distance in the first part", f"{v1} * {t1}")
    b = _step("distance in the second part", f"{v2} * {t2}")
    t = _step("total distance", f"{a.value} + {b.value}")
    text = (
        f"{p.name} {verb} at {v1} {unit} per hour for {_hours(t1)}, then at {v2} {unit} per "
        f"hour for {_hours(t2)}. How many {unit} does {p.subj} travel in total?"
    )
    return text, [a, b, t]


def _train_minutes(rng: random.Random) -> tuple[str, list[Step]]:
    v, h, stop = rng.randrange(60, 161, 20), rng.randint(2, 5), rng.randrange(10, 46, 5)
    dist = v * h
    vehicle = rng.choice(["train", "bus", "ferry"])
    if vehicle == "ferry":
        v, dist = v // 4, v // 4 * h
    a = _step("travel time in hours", f"{dist} / {v}")
    b = _step("travel time in minutes", f"{a.value} * 60")
    c = _step("length of the whole trip in minutes", f"{b.value} + {stop}")
    text = (
        f"A {vehicle} travels {dist} kilometers at {v} kilometers per hour. On the way it "
        f"stops for {stop} minutes. How many minutes does the whole trip take?"
    )
    return text, [a, b, c]


def _same_speed(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    speed, t1, t2 = rng.randint(4, 20), rng.randint(2, 5), rng.randint(3, 9)
    if t1 == t2:
        raise _Reject("same time")
    verb = rng.choice(["runs", "cycles", "rows", "skates"]) if speed <= 12 else "cycles"
    a = _step("speed in kilometers per hour", f"{speed * t1} / {t1}")
    b = _step(f"distance in {t2} hours", f"{a.value} * {t2}")
    text = (
        f"{p.name} {verb} {speed * t1} kilometers in {t1} hours. At the same speed, how many "
        f"kilometers does {p.subj} cover in {t2} hours?"
    )
    return text, [a, b]


def _share_candies(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    friends, each, keep = rng.randint(2, 8), rng.randint(3, 15), rng.randint(2, 10)
    thing = rng.choice(["candies", "stickers", "cookies", "trading cards", "chocolates"])
    total = friends * each + keep
    r = _step(f"{thing} left to share", f"{total} - {keep}")
    e = _step(f"{thing} each friend gets", f"{r.value} / {friends}")
    text = (
        f"{p.name} has {total} {thing}. {_cap(p.subj)} keeps {keep} for {p.refl} and shares "
        f"the rest equally among {friends} friends. How many {thing} does each friend get?"
    )
    return text, [r, e]


def _pizza_slices(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    pizzas, slices = rng.randint(2, 6), rng.choice([6, 8, 10, 12])
    guests, eat = rng.randint(3, 9), rng.randint(2, 4)
    a = _step("number of slices", f"{pizzas} * {slices}")
    b = _step("number of slices eaten", f"{guests} * {eat}")
    c = _step("number of slices left", f"{a.value} - {b.value}")
    text = (
        f"{p.name} orders {pizzas} pizzas, and each pizza is cut into {slices} slices. "
        f"{guests} people each eat {eat} slices. How many slices are left over?"
    )
    return text, [a, b, c]


def _ages_sum(rng: random.Random) -> tuple[str, list[Step]]:
    a, b, c = _people(rng, 3)
    age_c, older, k = rng.randint(4, 14), rng.randint(2, 9), rng.choice([2, 3])
    times = {2: "twice", 3: "three times"}[k]
    sb = _step(f"{b.name}'s age", f"{k} * {age_c}")
    sa = _step(f"{a.name}'s age", f"{sb.value} + {older}")
    st = _step("sum of their ages", f"{age_c} + {sb.value} + {sa.value}")
    text = (
        f"{a.name} is {older} years older than {b.name}. {b.name} is {times} as old as "
        f"{c.name}, who is {age_c} years old. What is the sum of their three ages?"
    )
    return text, [sb, sa, st]


def _ages_future(rng: random.Random) -> tuple[str, list[Step]]:
    a, b = _people(rng, 2)
    child_age, k, years = rng.randint(3, 12), rng.randint(3, 5), rng.randint(2, 10)
    if k * child_age > 60 or (k - 1) * child_age < 20:
        raise _Reject("too old")
    s1 = _step(f"{a.name}'s age now", f"{k} * {child_age}")
    s2 = _step(f"{a.name}'s age in {years} years", f"{s1.value} + {years}")
    s3 = _step(f"{b.name}'s age in {years} years", f"{child_age} + {years}")
    s4 = _step(f"sum of their ages in {years} years", f"{s2.value} + {s3.value}")
    text = (
        f"{a.name} is {k} times as old as {a.poss} {b.child} {b.name}, who is {child_age} years "
        f"old. What will the sum of their ages be in {years} years?"
    )
    return text, [s1, s2, s3, s4]


def _ages_past(rng: random.Random) -> tuple[str, list[Step]]:
    a, b = _people(rng, 2)
    age_a, younger, ago = rng.randint(20, 60), rng.randint(2, 15), rng.randint(2, 8)
    if age_a - younger - ago < 3:
        raise _Reject("too young")
    s1 = _step(f"{b.name}'s age now", f"{age_a} - {younger}")
    s2 = _step(f"{b.name}'s age {ago} years ago", f"{s1.value} - {ago}")
    text = (
        f"{a.name} is {age_a} years old. {b.name} is {younger} years younger than {a.name}. "
        f"How old was {b.name} {ago} years ago?"
    )
    return text, [s1, s2]


def _percent_class(rng: random.Random) -> tuple[str, list[Step]]:
    pct = rng.choice([20, 25, 40, 50, 60, 75])
    n = rng.choice([20, 24, 28, 32, 36, 40]) if pct in (25, 75) else rng.choice([20, 25, 30, 35])
    k = rng.randint(2, 5)
    thing = rng.choice(["notebooks", "pencils", "worksheets", "name tags"])
    g = _step("number of girls", f"{n} * {pct} / 100")
    b = _step("number of boys", f"{n} - {g.value}")
    t = _step(f"{thing} the boys need", f"{b.value} * {k}")
    text = (
        f"There are {n} students in a class, and {pct}% of them are girls. Each boy needs "
        f"{k} {thing}. How many {thing} do the boys need in total?"
    )
    return text, [g, b, t]


def _salary_raise(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    monthly, pct = rng.randrange(1800, 6001, 100), rng.choice([5, 10, 20, 25])
    if pct == 25:
        monthly = monthly // 400 * 400
    r = _step("monthly raise", f"{monthly} * {pct} / 100")
    m = _step("new monthly salary", f"{monthly} + {r.value}")
    y = _step("salary for a year", f"{m.value} * 12")
    text = (
        f"{p.name} earns ${monthly} a month. {_cap(p.subj)} gets a {pct}% raise. How many "
        f"dollars will {p.subj} earn in a year after the raise?"
    )
    return text, [r, m, y]


def _price_increase(rng: random.Random) -> tuple[str, list[Step]]:
    sing, plural, lo, hi = rng.choice(_PRICED_SERVICES)
    pct = rng.choice([10, 20, 25, 50])
    step = {10: 10, 20: 5, 25: 4, 50: 2}[pct]
    price = rng.randrange((lo + step - 1) // step * step, hi + 1, step)
    k = rng.randint(3, 9)
    i = _step("price increase", f"{price} * {pct} / 100")
    n = _step("new price", f"{price} + {i.value}")
    t = _step(f"cost of {k} {plural}", f"{k} * {n.value}")
    text = (
        f"A {sing} costs ${price}. The price goes up by {pct}%. How many dollars do {k} "
        f"{plural} cost at the new price?"
    )
    return text, [i, n, t]


def _machine_rate(rng: random.Random) -> tuple[str, list[Step]]:
    rate, hours, crate = rng.randint(5, 40), rng.randint(2, 8), rng.choice([6, 10, 12, 20, 24])
    thing = rng.choice(["bottles", "cans", "jars", "toy cars", "boxes of tea"])
    m = _step("number of minutes", f"{hours} * 60")
    b = _step(f"number of {thing}", f"{rate} * {m.value}")
    c = _step("number of crates", f"{b.value} / {crate}")
    text = (
        f"A machine fills {rate} {thing} every minute. It runs for {hours} hours, and the "
        f"{thing} are packed in crates of {crate}. How many crates are filled?"
    )
    return text, [m, b, c]


def _two_workers(rng: random.Random) -> tuple[str, list[Step]]:
    a, b = _people(rng, 2)
    ra, rb, hours = rng.randint(6, 20), rng.randint(6, 20), rng.randint(2, 9)
    thing = rng.choice(["boxes", "gift bags", "envelopes", "lunch bags"])
    verb = {"envelopes": "stuff", "boxes": "pack"}.get(thing, "fill")
    total = (ra + rb) * hours
    c = _step(f"number of {thing} they finish per hour together", f"{ra} + {rb}")
    h = _step("number of hours", f"{total} / {c.value}")
    text = (
        f"{a.name} can {verb} {ra} {thing} an hour and {b.name} can {verb} {rb} {thing} an hour. "
        f"Working together, how many hours will they need to {verb} {total} {thing}?"
    )
    return text, [c, h]


def _painting(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    walls, area, rate = rng.randint(4, 12), rng.randrange(10, 41, 2), rng.choice([4, 5, 6, 8, 10])
    a = _step("total wall area", f"{walls} * {area}")
    h = _step("number of hours", f"{a.value} / {rate}")
    text = (
        f"{p.name} paints {rate} square meters of wall per hour. {_cap(p.subj)} has to paint "
        f"{walls} walls that are each {area} square meters. How many hours will it take?"
    )
    return text, [a, h]


def _garden_seed(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    length, width, price = rng.randint(5, 20), rng.randint(3, 12), rng.randint(2, 6)
    thing = rng.choice(["grass seed", "fertilizer", "mulch"])
    a = _step("area of the garden", f"{length} * {width}")
    c = _step(f"cost of the {thing}", f"{a.value} * {price}")
    text = (
        f"{p.name}'s rectangular garden is {length} meters long and {width} meters wide. "
        f"{_cap(thing)} costs ${price} per square meter. How many dollars does it cost to "
        f"cover the whole garden?"
    )
    return text, [a, c]


def _fence_posts(rng: random.Random) -> tuple[str, list[Step]]:
    gap = rng.choice([2, 3, 4, 5])
    length, width, price = gap * rng.randint(5, 20), gap * rng.randint(3, 12), rng.randint(5, 15)
    per = _step("perimeter of the field", f"2 * ({length} + {width})")
    posts = _step("number of posts", f"{per.value} / {gap}")
    cost = _step("cost of the posts", f"{posts.value} * {price}")
    text = (
        f"A rectangular field is {length} meters long and {width} meters wide. A farmer puts "
        f"a fence around it with a post every {gap} meters. Each post costs ${price}. How "
        f"many dollars do the posts cost?"
    )
    return text, [per, posts, cost]


def _floor_tiles(rng: random.Random) -> tuple[str, list[Step]]:
    per_box = rng.choice([10, 12, 15, 20])
    length, width, price = rng.randint(6, 20), rng.randint(5, 15), rng.randint(15, 40)
    room = rng.choice(["kitchen", "bathroom", "hallway", "basement"])
    a = _step("floor area", f"{length} * {width}")
    b = _step("number of boxes", f"{a.value} / {per_box}")
    c = _step("cost of the tiles", f"{b.value} * {price}")
    text = (
        f"A {room} floor is {length} feet long and {width} feet wide. Each tile covers one "
        f"square foot, tiles come in boxes of {per_box}, and a box costs ${price}. How many "
        f"dollars do the tiles for the whole floor cost?"
    )
    return text, [a, b, c]


def _savings_weeks(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    have, save, weeks = rng.randint(10, 80), rng.randrange(5, 31, 5), rng.randint(4, 12)
    item, lo, hi = rng.choice(_BIG_PURCHASES)
    price = rng.randrange(lo, hi + 1, 10)
    s = _step("money saved", f"{save} * {weeks}")
    t = _step("total money", f"{have} + {s.value}")
    left = _step("money left", f"{t.value} - {price}")
    text = (
        f"{p.name} has ${have} in a piggy bank. {_cap(p.subj)} saves ${save} every week for "
        f"{weeks} weeks and then buys a {item} for ${price}. How many dollars does {p.subj} "
        f"have left?"
    )
    return text, [s, t, left]


def _savings_goal(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    item, lo, hi = rng.choice(_BIG_PURCHASES)
    save, weeks = rng.randrange(10, 41, 5), rng.randint(3, 15)
    have = rng.randrange(20, 121, 5)
    price = have + save * weeks
    if not lo <= price <= hi + 100:
        raise _Reject("unrealistic price")
    n = _step("money still needed", f"{price} - {have}")
    w = _step("number of weeks", f"{n.value} / {save}")
    text = (
        f"{p.name} wants to buy a {item} that costs ${price}. {_cap(p.subj)} already has "
        f"${have} and saves ${save} each week. How many weeks will it take {p.obj} to have "
        f"enough money?"
    )
    return text, [n, w]


def _allowance(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    allowance, extra, spend = rng.randint(5, 20), rng.randint(10, 30), rng.randint(5, 20)
    weeks = rng.randint(4, 10)
    job = rng.choice(["mowing lawns", "walking dogs", "washing cars", "babysitting"])
    i = _step("money earned each week", f"{allowance} + {extra}")
    s = _step("money saved each week", f"{i.value} - {spend}")
    t = _step(f"money saved in {weeks} weeks", f"{s.value} * {weeks}")
    text = (
        f"{p.name} gets ${allowance} a week in allowance and earns ${extra} a week from "
        f"{job}. {_cap(p.subj)} spends ${spend} each week. How many dollars does {p.subj} "
        f"save in {weeks} weeks?"
    )
    return text, [i, s, t]


def _wages(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    hours, days, rate = rng.randint(3, 8), rng.randint(3, 6), rng.randint(12, 30)
    weeks = rng.randint(2, 4)
    job = rng.choice(["at a cafe", "at a bookstore", "as a tutor", "at the library", "at a farm"])
    h = _step("hours worked each week", f"{hours} * {days}")
    w = _step("pay for one week", f"{h.value} * {rate}")
    t = _step(f"pay for {weeks} weeks", f"{w.value} * {weeks}")
    text = (
        f"{p.name} works {job} {hours} hours a day, {days} days a week, and earns ${rate} an "
        f"hour. How many dollars does {p.subj} earn in {weeks} weeks?"
    )
    return text, [h, w, t]


def _baking(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    cups, batch, batches = rng.randint(2, 4), rng.choice([12, 18, 20, 24, 30]), rng.randint(3, 8)
    ingredient = rng.choice(["cups of flour", "cups of sugar", "eggs", "sticks of butter"])
    fair = rng.choice(["a school fair", "a bake sale", "a family reunion", "a charity event"])
    b = _step("number of batches", f"{batch * batches} / {batch}")
    c = _step(f"number of {ingredient}", f"{b.value} * {cups}")
    text = (
        f"A cookie recipe uses {cups} {ingredient} to make {batch} cookies. {p.name} wants to "
        f"bake {batch * batches} cookies for {fair}. How many {ingredient} does {p.subj} need?"
    )
    return text, [b, c]


def _farm_legs(rng: random.Random) -> tuple[str, list[Step]]:
    birds, beasts = rng.choice(["chickens", "ducks", "geese"]), rng.choice(["cows", "goats"])
    nb, nq = rng.randint(5, 30), rng.randint(3, 20)
    a = _step(f"legs of the {birds}", f"{nb} * 2")
    b = _step(f"legs of the {beasts}", f"{nq} * 4")
    t = _step("total number of legs", f"{a.value} + {b.value}")
    text = (
        f"A farm has {nb} {birds} and {nq} {beasts}. How many legs do these animals have "
        f"altogether?"
    )
    return text, [a, b, t]


def _reading(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    per_day, days, later, later_days = (
        rng.randint(10, 40),
        rng.randint(3, 7),
        rng.randint(15, 50),
        rng.randint(2, 6),
    )
    pages = per_day * days + later * later_days
    r = _step("pages read so far", f"{per_day} * {days}")
    left = _step("pages left", f"{pages} - {r.value}")
    d = _step("days needed to finish", f"{left.value} / {later}")
    text = (
        f"{p.name}'s book has {pages} pages. {_cap(p.subj)} reads {per_day} pages a day for "
        f"{days} days. If {p.subj} then reads {later} pages a day, how many more days will "
        f"{p.subj} need to finish the book?"
    )
    return text, [r, left, d]


def _fuel_cost(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    km_per_l, price = rng.choice([10, 12, 15, 20]), rng.randint(1, 3)
    one_way = km_per_l * rng.randint(3, 15) // 2
    dest = rng.choice(_CITIES).replace("her ", f"{p.poss} ")
    d = _step("round-trip distance", f"2 * {one_way}")
    fuel = _step("liters of gas", f"{d.value} / {km_per_l}")
    c = _step("cost of the gas", f"{fuel.value} * {price}")
    text = (
        f"{p.name}'s car goes {km_per_l} kilometers on one liter of gas. {_cap(p.subj)} drives "
        f"to {dest}, {one_way} kilometers away, and back. Gas costs ${price} per liter. How "
        f"many dollars does the gas for the trip cost?"
    )
    return text, [d, fuel, c]


def _fruit_basket(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    word, k = rng.choice([("half", 2), ("a third", 3), ("a quarter", 4)])
    total, used = k * rng.randint(6, 20), rng.randint(3, 10)
    fruit = rng.choice(["apples", "peaches", "plums", "oranges", "pears"])
    g = _step(f"{fruit} given away", f"{total} / {k}")
    a = _step(f"{fruit} after the gift", f"{total} - {g.value}")
    left = _step(f"{fruit} left", f"{a.value} - {used}")
    text = (
        f"{p.name} picks {total} {fruit}. {_cap(p.subj)} gives {word} of them to {p.poss} "
        f"neighbor and uses {used} to bake a pie. How many {fruit} are left?"
    )
    return text, [g, a, left]


def _pencil_packs(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    packs, per_pack, students, each = (
        rng.randint(3, 10),
        rng.choice([6, 8, 10, 12]),
        rng.randint(5, 25),
        rng.randint(1, 3),
    )
    t = _step("number of pencils", f"{packs} * {per_pack}")
    g = _step("pencils given out", f"{students} * {each}")
    left = _step("pencils left", f"{t.value} - {g.value}")
    text = (
        f"{p.name} buys {packs} packs of pencils with {per_pack} pencils in each pack. "
        f"{_cap(p.subj)} gives {each} {'pencil' if each == 1 else 'pencils'} to each of "
        f"{students} students. How many pencils does {p.subj} have left?"
    )
    return text, [t, g, left]


def _harvest(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    rows, per_row, per_plant = rng.randint(3, 10), rng.randint(4, 12), rng.randint(5, 20)
    bag = rng.choice([5, 6, 8, 10])
    crop = rng.choice(["tomato", "pepper", "cucumber", "zucchini"])
    crops = {"tomato": "tomatoes", "zucchini": "zucchinis"}.get(crop, crop + "s")
    a = _step(f"number of {crop} plants", f"{rows} * {per_row}")
    b = _step(f"number of {crops}", f"{a.value} * {per_plant}")
    c = _step("number of bags", f"{b.value} / {bag}")
    text = (
        f"{p.name} plants {rows} rows of {crop} plants with {per_row} plants in each row. Each "
        f"plant produces {per_plant} {crops}, and {p.subj} sells them in bags of {bag}. How "
        f"many bags can {p.subj} fill?"
    )
    return text, [a, b, c]


def _tickets(rng: random.Random) -> tuple[str, list[Step]]:
    adult, child = rng.randint(12, 30), rng.randint(5, 11)
    na, nc, parking = rng.randint(1, 4), rng.randint(1, 5), rng.randint(5, 15)
    place = rng.choice(_PLACES)
    a = _step("cost of the adult tickets", f"{na} * {adult}")
    c = _step("cost of the children's tickets", f"{nc} * {child}")
    t = _step("total cost", f"{a.value} + {c.value} + {parking}")
    adults = "adult" if na == 1 else "adults"
    children = "child" if nc == 1 else "children"
    text = (
        f"Tickets to the {place} cost ${adult} for adults and ${child} for children, and "
        f"parking costs ${parking}. A family of {na} {adults} and {nc} {children} drives "
        f"there. How many dollars do they spend on tickets and parking?"
    )
    return text, [a, c, t]


def _collection_compare(rng: random.Random) -> tuple[str, list[Step]]:
    a, b, c = _people(rng, 3)
    x, k, fewer = rng.randint(8, 40), rng.choice([2, 3, 4]), rng.randint(3, 15)
    thing = rng.choice(_COLLECTIBLES)
    times = {2: "twice as many", 3: "three times as many", 4: "four times as many"}[k]
    sb = _step(f"number of {thing} {b.name} has", f"{k} * {x}")
    sc = _step(f"number of {thing} {c.name} has", f"{sb.value} - {fewer}")
    st = _step(f"total number of {thing}", f"{x} + {sb.value} + {sc.value}")
    text = (
        f"{a.name} has {x} {thing}. {b.name} has {times} {thing} as {a.name}, and {c.name} has "
        f"{fewer} fewer {thing} than {b.name}. How many {thing} do the three of them have "
        f"together?"
    )
    return text, [sb, sc, st]


def _water_tank(rng: random.Random) -> tuple[str, list[Step]]:
    rate, minutes, have = rng.randrange(5, 31, 5), rng.randint(10, 60), rng.randrange(50, 401, 50)
    cap = have + rate * minutes
    n = _step("liters still needed", f"{cap} - {have}")
    m = _step("number of minutes", f"{n.value} / {rate}")
    text = (
        f"A water tank holds {cap} liters. It already has {have} liters in it, and a hose "
        f"adds {rate} liters every minute. How many minutes will it take to fill the tank?"
    )
    return text, [n, m]


def _bus_trip(rng: random.Random) -> tuple[str, list[Step]]:
    cap, buses, teachers = rng.choice([30, 40, 45, 50]), rng.randint(2, 6), rng.randint(3, 8)
    students, rent = cap * buses - teachers, rng.randrange(150, 401, 25)
    p = _step("number of people", f"{students} + {teachers}")
    b = _step("number of buses", f"{p.value} / {cap}")
    c = _step("cost of the buses", f"{b.value} * {rent}")
    text = (
        f"A school takes {students} students and {teachers} teachers on a trip. Each bus "
        f"holds {cap} people, every bus is filled, and renting one bus costs ${rent}. How many "
        f"dollars does the school pay for the buses?"
    )
    return text, [p, b, c]


def _bake_sale(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    n1, p1, n2, p2 = rng.randint(10, 40), rng.randint(3, 5), rng.randint(10, 50), rng.randint(1, 2)
    costs = rng.randint(10, 40)
    a = _step("money from cupcakes", f"{n1} * {p1}")
    b = _step("money from cookies", f"{n2} * {p2}")
    r = _step("total sales", f"{a.value} + {b.value}")
    pr = _step("profit", f"{r.value} - {costs}")
    text = (
        f"At a bake sale, {p.name} sells {n1} cupcakes for ${p1} each and {n2} cookies for "
        f"${p2} each. The ingredients cost {p.obj} ${costs}. How many dollars of profit does "
        f"{p.subj} make?"
    )
    return text, [a, b, r, pr]


def _workout(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    minutes, days = rng.choice([20, 30, 40, 45, 60]), rng.randint(3, 6)
    weeks = rng.randint(2, 8)
    sport = rng.choice(["exercises", "practices piano", "swims", "does yoga", "jogs"])
    w = _step("minutes spent each week", f"{minutes} * {days}")
    t = _step(f"total minutes in {weeks} weeks", f"{w.value} * {weeks}")
    h = _step("number of hours", f"{t.value} / 60")
    text = (
        f"{p.name} {sport} for {minutes} minutes a day, {days} days a week. How many hours "
        f"does {p.subj} spend on it in {weeks} weeks?"
    )
    return text, [w, t, h]


def _phone_plans(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    a, b, fee = rng.randint(30, 70), rng.randint(15, 50), rng.randrange(20, 101, 10)
    months = rng.choice([6, 12, 18, 24])
    sa = _step("cost of Plan A", f"{a} * {months}")
    sb = _step("cost of Plan B", f"{b} * {months} + {fee}")
    d = _step("difference in cost", f"{sa.value} - {sb.value}")
    text = (
        f"{p.name} is choosing a phone plan. Plan A costs ${a} a month. Plan B costs ${b} a "
        f"month plus a one-time fee of ${fee}. Over {months} months, how many dollars more "
        f"does Plan A cost than Plan B?"
    )
    return text, [sa, sb, d]


def _stamps_half(rng: random.Random) -> tuple[str, list[Step]]:
    p, q = _people(rng, 2)
    have, per_week, weeks = rng.randint(20, 90), rng.randint(3, 12), rng.randint(3, 10)
    thing = rng.choice(_COLLECTIBLES)
    relation = "sister" if q.subj == "she" else "brother"
    c = _step(f"{thing} collected", f"{per_week} * {weeks}")
    t = _step(f"{thing} in the collection", f"{have} + {c.value}")
    left = _step(f"{thing} left", f"{t.value} / 2")
    text = (
        f"{p.name} has {have} {thing}. {_cap(p.subj)} collects {per_week} more every week for "
        f"{weeks} weeks and then gives half of the collection to {p.poss} {relation} {q.name}. "
        f"How many {thing} does {p.name} have left?"
    )
    return text, [c, t, left]


def _library(rng: random.Random) -> tuple[str, list[Step]]:
    pct = rng.choice([10, 20, 25, 30, 40])
    books = rng.randrange(200, 2001, 100 if pct != 25 else 200)
    donated = rng.randrange(20, 201, 10)
    o = _step("books checked out", f"{books} * {pct} / 100")
    s = _step("books on the shelves", f"{books} - {o.value}")
    n = _step("books on the shelves after the donation", f"{s.value} + {donated}")
    text = (
        f"A library owns {books} books, and {pct}% of them are checked out. Then the library "
        f"receives a donation of {donated} new books, which go straight onto the shelves. How "
        f"many books are on the shelves now?"
    )
    return text, [o, s, n]


def _rent_split(rng: random.Random) -> tuple[str, list[Step]]:
    people = rng.randint(2, 5)
    rent, utilities = people * rng.randrange(300, 901, 50), people * rng.randrange(20, 81, 10)
    months = rng.choice([3, 6, 12])
    t = _step("monthly cost for the apartment", f"{rent} + {utilities}")
    e = _step("monthly share for each roommate", f"{t.value} / {people}")
    y = _step(f"cost for each roommate over {months} months", f"{e.value} * {months}")
    text = (
        f"A group of {people} roommates share an apartment. The rent is ${rent} a month "
        f"and utilities are ${utilities} a month, split equally. How many dollars does each "
        f"roommate pay over {months} months?"
    )
    return text, [t, e, y]


def _aquarium_fish(rng: random.Random) -> tuple[str, list[Step]]:
    (p,) = _people(rng, 1)
    tanks, per_tank, new = rng.randint(3, 8), rng.randint(6, 20), rng.randint(5, 20)
    sold = rng.randint(5, tanks * per_tank - 3)
    t = _step("number of fish at the start", f"{tanks} * {per_tank}")
    s = _step("number of fish after the sale", f"{t.value} - {sold}")
    n = _step("number of fish now", f"{s.value} + {new}")
    text = (
        f"{p.name}'s pet shop has {tanks} tanks with {per_tank} fish in each. {_cap(p.subj)} "
        f"sells {sold} fish in the morning and gets a delivery of {new} new fish in the "
        f"afternoon. How many fish does the shop have now?"
    )
    return text, [t, s, n]


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
