"""Templates about baking, farms, reading, collections, trips and chores."""

from __future__ import annotations

import random

from app.demo.problems.core import _CITIES, _COLLECTIBLES, _PLACES, Step, _cap, _people, _step


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
