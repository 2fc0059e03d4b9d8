"""Five human answer styles for the demo problems: one demo "response generation strategy"
each.

Every rendering ends with ``Final Answer: {answer}``. The answer is the problem's gold
answer except for a small, deterministic share of *slips* (an arithmetic mistake in the
last calculation that carries into the final answer), so that the "share correct"
statistic of a demo scan is not trivially 100%:

* ``verbose_latex``: about 6% of problems (:data:`SLIP_RATES`);
* ``terse``: about 4% of problems;
* the other three styles never slip.

Whether a problem slips in a style depends only on the style name and the problem's
question text (a SHA-256 hash), so it is the same for every seed that yields that
question, and :func:`has_slip` says which ones do.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence

from app.demo.problems import DemoProblem, Step

__all__ = [
    "SLIP_RATES",
    "STYLES",
    "STYLE_DESCRIPTIONS",
    "final_answer",
    "has_slip",
    "render",
    "render_strategy",
]

SLIP_RATES: dict[str, float] = {"verbose_latex": 0.06, "terse": 0.04}
"""Share of problems whose rendering in that style carries an arithmetic slip."""


# --------------------------------------------------------------------------------------
# deterministic choices


def _unit(problem: DemoProblem, salt: str) -> float:
    """A number in [0, 1) fixed by the question text and ``salt``."""
    digest = hashlib.sha256(f"{salt}\x00{problem.question}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(problem: DemoProblem, salt: str, options: Sequence[str]) -> str:
    return options[int(_unit(problem, salt) * len(options))]


def has_slip(style: str, problem: DemoProblem) -> bool:
    """Whether ``problem`` rendered in ``style`` carries a (deliberate) arithmetic slip."""
    rate = SLIP_RATES.get(style, 0.0)
    return rate > 0 and _unit(problem, f"slip:{style}") < rate


def _wrong_value(problem: DemoProblem, style: str) -> int:
    value = problem.steps[-1].value
    digits = str(value)
    candidates = [value + 1, value - 1, value + 10, value - 10, value + 2, value * 10]
    if len(digits) >= 2 and digits[-1] != digits[-2]:
        candidates.append(int(digits[:-2] + digits[-1] + digits[-2]))  # swapped last digits
    candidates = [c for c in candidates if c > 0 and c != value]
    return candidates[int(_unit(problem, f"wrong:{style}") * len(candidates))]


def final_answer(style: str, problem: DemoProblem) -> str:
    """The number after ``Final Answer:`` in ``style``'s rendering of ``problem``."""
    return str(_wrong_value(problem, style)) if has_slip(style, problem) else problem.gold


def _shown_steps(style: str, problem: DemoProblem) -> list[Step]:
    """The steps as the style shows them: with the slipped last result where it slips."""
    steps = list(problem.steps)
    if has_slip(style, problem):
        last = steps[-1]
        steps[-1] = Step(last.description, last.expression, _wrong_value(problem, style))
    return steps


# --------------------------------------------------------------------------------------
# text helpers


def _the(description: str) -> str:
    """``"cost of the pens"`` -> ``"the cost of the pens"``; names keep no article."""
    return description if description[:1].isupper() else f"the {description}"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


_SENTENCE = re.compile(r"(?<=[.?!])\s+(?=[A-Z0-9])")


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCE.split(text.strip()) if s]


def _ops(expression: str, times: str, divide: str) -> str:
    return expression.replace(" * ", f" {times} ").replace(" / ", f" {divide} ")


# --------------------------------------------------------------------------------------
# the five styles


def terse(problem: DemoProblem) -> str:
    """Just the equations, one per line, and the final answer."""
    steps = _shown_steps("terse", problem)
    lines = [f"{s.expression} = {s.value}" for s in steps]
    lines.append(f"Final Answer: {steps[-1].value}")
    return "\n".join(lines)


def step_by_step(problem: DemoProblem) -> str:
    """Numbered plain-text steps ("Step 1: ..."), then the final answer."""
    steps = _shown_steps("step_by_step", problem)
    verb = _pick(problem, "sbs:verb", ["Find", "Calculate", "Work out"])
    lines = []
    for i, s in enumerate(steps, 1):
        lines.append(
            f"Step {i}: {verb} {_the(s.description)}: {_ops(s.expression, 'x', '/')} = {s.value}."
        )
    return "\n".join(lines) + f"\n\nFinal Answer: {steps[-1].value}"


_LATEX_OPENERS = [
    "Let's break this problem down step by step.",
    "Great question! Let's work through it carefully, one piece at a time.",
    "To solve this, we'll figure out each quantity we need and then combine them.",
    "Sure! Let's think about what the problem is asking and solve it step by step.",
]
_LATEX_CONNECTORS = ["First", "Next", "Then", "After that"]
_LATEX_VERBS = ["let's find", "we calculate", "we need", "we work out"]
_LATEX_CLOSERS = [
    "**So, the answer is {v}.**",
    "**Therefore, the final answer is {v}.**",
    "**The answer is {v}.**",
]


def _latex(expression: str) -> str:
    return _ops(expression, r"\times", r"\div")


def verbose_latex(problem: DemoProblem) -> str:
    """Chatty explanation with inline ``\\( ... \\)`` and display ``$$ ... $$`` LaTeX and a
    bold markdown conclusion."""
    steps = _shown_steps("verbose_latex", problem)
    parts = [_pick(problem, "latex:open", _LATEX_OPENERS)]
    givens = [s for s in _sentences(problem.body) if not s.endswith("?")]
    if givens:
        parts.append("We are told: " + " ".join(givens))
    for i, s in enumerate(steps[:-1]):
        connector = _LATEX_CONNECTORS[min(i, len(_LATEX_CONNECTORS) - 1)]
        verb = _pick(problem, f"latex:verb:{i}", _LATEX_VERBS)
        parts.append(
            f"{connector}, {verb} {_the(s.description)}:\n"
            f"\\( {_latex(s.expression)} = {s.value} \\)"
        )
    last = steps[-1]
    if len(steps) == 1:  # a one-step warm-up still states its calculation inline first
        verb = _pick(problem, "latex:verb:0", _LATEX_VERBS)
        parts.append(
            f"First, {verb} {_the(last.description)}. Only one calculation is needed here, "
            f"combining the two numbers we are given: \\( {_latex(last.expression)} \\)"
        )
    parts.append(
        f"Finally, putting it together, {_the(last.description)} is:\n"
        f"$$\n{_latex(last.expression)} = {last.value}\n$$"
    )
    parts.append(_pick(problem, "latex:close", _LATEX_CLOSERS).format(v=last.value))
    parts.append(f"Final Answer: {last.value}")
    return "\n\n".join(parts)


def exam_style(problem: DemoProblem) -> str:
    """Human GSM8K rationale: sentences with ``<<a*b=c>>`` calculator annotations and
    ``#### answer``."""
    steps = _shown_steps("exam_style", problem)
    lines = []
    for s in steps:
        compact = s.expression.replace(" ", "")
        lines.append(f"{_cap(_the(s.description))} is {compact}=<<{compact}={s.value}>>{s.value}.")
    lines.append(f"#### {steps[-1].value}")
    lines.append(f"Final Answer: {steps[-1].value}")
    return "\n".join(lines)


def teacher_markdown(problem: DemoProblem) -> str:
    """Markdown worksheet: headings, a "Given:" bullet list, numbered solution, a small
    table for longer problems, and the answer in bold."""
    steps = _shown_steps("teacher_markdown", problem)
    sentences = _sentences(problem.body)
    givens = [s for s in sentences if not s.endswith("?")]
    asks = [s for s in sentences if s.endswith("?")]
    unicode_expr = [_ops(s.expression, "×", "÷") for s in steps]
    out = ["### Understanding the problem", "", "**Given:**"]
    out += [f"- {g}" for g in givens]
    if asks:
        out += ["", f"**Find:** {' '.join(asks)}"]
    out += ["", "### Solution:", ""]
    out += [
        f"{i}. **{_cap(s.description)}:** {e} = {s.value}"
        for i, (s, e) in enumerate(zip(steps, unicode_expr, strict=True), 1)
    ]
    if len(steps) >= 3:
        out += ["", "| Quantity | Calculation | Result |", "|---|---|---|"]
        out += [
            f"| {_cap(s.description)} | {e} | {s.value} |"
            for s, e in zip(steps, unicode_expr, strict=True)
        ]
    out += ["", "### Answer", "", f"The answer is **{steps[-1].value}**.", ""]
    out.append(f"Final Answer: {steps[-1].value}")
    return "\n".join(out)


StyleFn = Callable[[DemoProblem], str]

STYLES: dict[str, StyleFn] = {
    "terse": terse,
    "step_by_step": step_by_step,
    "verbose_latex": verbose_latex,
    "exam_style": exam_style,
    "teacher_markdown": teacher_markdown,
}
"""The demo strategies, in display order: name -> ``(problem) -> response text``."""

STYLE_DESCRIPTIONS: dict[str, str] = {
    "terse": "Just the equations, one per line, and the final answer.",
    "step_by_step": 'Plain numbered steps ("Step 1: ..."), one calculation each.',
    "verbose_latex": (
        "Chatty explanation with inline and display LaTeX math and a bold conclusion."
    ),
    "exam_style": "Human GSM8K rationale with <<12*3=36>> calculator notes and '#### answer'.",
    "teacher_markdown": (
        "Markdown worksheet: headings, a 'Given:' list, numbered solution, a small table."
    ),
}
"""One-line description of each style, same order as :data:`STYLES`."""


def render(name: str, problem: DemoProblem) -> str:
    """``problem``'s solution in style ``name`` (a key of :data:`STYLES`)."""
    try:
        fn = STYLES[name]
    except KeyError:
        raise KeyError(f"unknown style {name!r}; known: {', '.join(STYLES)}") from None
    return fn(problem)


def render_strategy(name: str, problems: Iterable[DemoProblem]) -> list[dict[str, str]]:
    """Records in the research field layout: ``{"id", "question", "answer", "gold_label"}``."""
    if name not in STYLES:
        raise KeyError(f"unknown style {name!r}; known: {', '.join(STYLES)}")
    return [
        {
            "id": p.id,
            "question": p.question,
            "answer": render(name, p),
            "gold_label": p.gold,
        }
        for p in problems
    ]
