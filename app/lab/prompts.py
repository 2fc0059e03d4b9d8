"""A recipe's prompt, rendered; a teacher's answer, post-processed. Pure functions.

Templates run in Jinja2's ``SandboxedEnvironment`` (a template is user text: it may not
reach Python attributes such as ``__class__``), with ``StrictUndefined`` so a misspelt
variable is an error naming it rather than an empty string in the prompt. The variables:
``question``, ``gold`` (None where the question has none), ``own_answer`` (the target's own
answer, None where there is none), ``examples`` (the recipe's example responses, a list).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from jinja2 import StrictUndefined, TemplateError
from jinja2.sandbox import SandboxedEnvironment

VARIABLES = ("question", "gold", "own_answer", "examples")
_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
FINAL_MARK = "####"  # GSM8K's gold: reasoning, then "#### <answer>"


def final_answer(gold: str | None) -> str:
    """The gold's final answer: after its last "####", else its last line."""
    text = (gold or "").strip()
    if FINAL_MARK in text:
        return text.rsplit(FINAL_MARK, 1)[1].strip()
    return text.splitlines()[-1].strip() if text else ""


def reasoning(gold: str | None) -> str:
    """The gold without its final "#### <answer>" line."""
    return (gold or "").split(FINAL_MARK, 1)[0].strip()


_ENV.filters["final_answer"] = final_answer
_ENV.filters["reasoning"] = reasoning


class TemplateProblem(ValueError):
    """A template that does not parse or does not render for a question."""


@dataclass(frozen=True)
class PromptInput:
    question: str
    gold: str | None = None
    own_answer: str | None = None
    examples: list[str] = field(default_factory=list)

    def variables(self) -> dict[str, object]:
        return {
            "question": self.question,
            "gold": self.gold,
            "own_answer": self.own_answer,
            "examples": list(self.examples),
        }


def check_template(text: str, what: str) -> None:
    """Raise TemplateProblem if ``text`` does not parse or names an unknown variable."""
    try:
        parsed = _ENV.parse(text)
    except TemplateError as exc:
        raise TemplateProblem(f"{what}: {exc}") from None
    from jinja2 import meta

    unknown = sorted(meta.find_undeclared_variables(parsed) - set(VARIABLES))
    if unknown:
        raise TemplateProblem(
            f"{what}: unknown variable {', '.join(unknown)}; use {', '.join(VARIABLES)}"
        )


def variables_used(*texts: str) -> set[str]:
    """The variables the templates name (for checking that every question has them)."""
    from jinja2 import meta

    used: set[str] = set()
    for text in texts:
        used |= meta.find_undeclared_variables(_ENV.parse(text))
    return used


def render(text: str, data: PromptInput, what: str = "template") -> str:
    try:
        return _ENV.from_string(text).render(**data.variables()).strip()
    except TemplateError as exc:
        raise TemplateProblem(f"{what}: {exc}") from None


def messages(system: str, user: str, data: PromptInput) -> list[dict[str, str]]:
    """The chat messages a teacher gets (no system message when its template is empty)."""
    out = []
    if system.strip():
        out.append({"role": "system", "content": render(system, data, "system message")})
    out.append({"role": "user", "content": render(user, data, "user message")})
    return out


def postprocess(text: str, *, strip_prefix: str = "", stop_marker: str = "") -> str:
    """Drop ``strip_prefix`` where the answer starts with it (after leading blanks), keep
    the text up to the first ``stop_marker``; then trim blanks."""
    out = text.lstrip()
    if strip_prefix and out.startswith(strip_prefix):
        out = out[len(strip_prefix) :]
    if stop_marker and stop_marker in out:
        out = out.split(stop_marker, 1)[0]
    return out.strip()
