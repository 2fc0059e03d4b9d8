"""Templates about shopping, travel, ages, percentages, work and savings."""

from __future__ import annotations

import random

from app.demo.problems.core import (
    _BIG_PURCHASES,
    _GROCERIES,
    _PRICED_SERVICES,
    _SALE_ITEMS,
    _SCHOOL_ITEMS,
    _STORES,
    Step,
    _cap,
    _hours,
    _money_bill,
    _people,
    _Reject,
    _step,
)


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
