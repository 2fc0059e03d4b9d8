"""Field layouts: which fields of a row hold the question, the response, id, gold, strategy
and category (the first of ``category``, ``subject``, ``task`` present).

Detected layouts (a layout fits when both of its question and response fields occur):

- ``qa`` (the research data): ``question`` -> ``answer``, plus ``input``
- ``alpaca``: ``instruction`` -> ``output``, plus ``input``
- ``prompt_response``: ``prompt`` -> ``response``, ``prompt`` -> ``completion`` or
  ``question`` -> ``response``
- ``messages``: OpenAI chat turns ``[{"role", "content"}]`` under ``messages``
- ``sharegpt``: ShareGPT turns ``[{"from", "value"}]`` under ``conversations``
- ``mbpp``: a code task as MBPP writes it: the task in ``text``, reference code in ``code``,
  and a tests field (``test_list``, ...). The response is a response field (``response``,
  ``completion``, ``output``, ``answer``) with ``code`` as the gold; without one the file is
  the reference solutions themselves: ``code`` is the response. Fits only with a tests field,
  as ``text`` and ``code`` alone are too common to mean a code task

Exactly one fitting layout is used. None or several raise :class:`LayoutError`, which lists
the fields found and the mappings that fit, so the page can ask the user; the user's
choice comes back as an explicit :class:`FieldMapping` (any layout, or ``custom`` with
field names) that bypasses detection. Id, gold and strategy fields are optional and taken
by the priority order of the candidate tuples below (never a reason for ambiguity).

A code task's tests field (``test_list``, ``tests``, ...) and its setup code field are found
by name in every mapping, an explicit one included, unless the mapping names them (or
turns the tests off with ``NO_TESTS``); ``app.ingest.code_tests`` reads their values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from app.ingest.code_tests import NO_TESTS, SETUP_FIELDS, TESTS_FIELDS
from app.ingest.records import FieldMapping, UploadError, refuse_nul

PAIRS: tuple[tuple[str, str, str], ...] = (
    ("qa", "question", "answer"),
    ("alpaca", "instruction", "output"),
    ("prompt_response", "prompt", "response"),
    ("prompt_response", "prompt", "completion"),
    ("prompt_response", "question", "response"),
)
CHAT_FIELDS: tuple[tuple[str, str], ...] = (("messages", "messages"), ("sharegpt", "conversations"))
CHAT_LAYOUTS = frozenset(layout for layout, _ in CHAT_FIELDS)
CODE_TASK = ("mbpp", "text", "code")  # layout, question field, reference code field
CODE_RESPONSE_FIELDS = ("response", "completion", "output", "answer")
LAYOUTS = frozenset({"qa", "alpaca", "prompt_response", CODE_TASK[0], "custom"} | CHAT_LAYOUTS)
INPUT_FIELDS = ("input",)
ID_FIELDS = ("id", "question_id", "qid", "uid")
GOLD_FIELDS = (
    "gold_label",
    "gold",
    "gold_answer",
    "groundtruth",
    "numerical_final_answer",
    "reference",
)
STRATEGY_FIELDS = ("strategy", "strategy_name")
CORRECT_FIELDS = ("correct", "is_correct")
CATEGORY_FIELDS = ("category", "subject", "task")
ROLES = {
    "system": "system",
    "user": "user",
    "human": "user",
    "assistant": "assistant",
    "gpt": "assistant",
    "chatgpt": "assistant",
    "model": "assistant",
}
SUPPORTED_LAYOUTS = (
    "question/answer (+ input, gold_label), instruction/input/output (Alpaca), "
    "messages (OpenAI chat), conversations (ShareGPT), prompt/response, "
    "prompt/completion, question/response, text/code with a tests field (MBPP)"
)


class LayoutError(UploadError):
    """No single layout fits. `found`: the fields seen; `options`: mappings that fit."""

    def __init__(
        self, filename: str, message: str, *, found: list[str], options: list[FieldMapping]
    ) -> None:
        super().__init__(filename, message)
        self.found = found
        self.options = options


def field_names(rows: Iterable[tuple[int, dict[str, Any]]]) -> set[str]:
    """Every field name that occurs in any row."""
    found: set[str] = set()
    for _, row in rows:
        found.update(row)
    return found


def candidate_mappings(found: set[str]) -> list[FieldMapping]:
    """All layouts whose question and response fields both occur in `found`."""
    extras = {
        "id": _first(ID_FIELDS, found),
        "gold": _first(GOLD_FIELDS, found),
        "strategy": _first(STRATEGY_FIELDS, found),
        "correct": _first(CORRECT_FIELDS, found),
        "category": _first(CATEGORY_FIELDS, found),
        **_tests_fields(found),
    }
    options = [
        FieldMapping(layout, question=name, response=name, **extras)
        for layout, name in CHAT_FIELDS
        if name in found
    ]
    text_input = _first(INPUT_FIELDS, found)
    options += [
        FieldMapping(layout, question=q, response=r, input=text_input, **extras)
        for layout, q, r in PAIRS
        if q in found and r in found
    ]
    return options + _code_task_mappings(found, extras)


def _code_task_mappings(found: set[str], extras: dict[str, str | None]) -> list[FieldMapping]:
    """The ``mbpp`` layout when the task text, the reference code and tests all occur."""
    layout, question, code = CODE_TASK
    if question not in found or code not in found or not extras["tests"]:
        return []
    response = _first(CODE_RESPONSE_FIELDS, found)
    gold = extras["gold"] or (code if response else None)
    fields = {**extras, "gold": gold}
    return [FieldMapping(layout, question=question, response=response or code, **fields)]


def _tests_fields(
    found: set[str], tests: str | None = None, setup: str | None = None
) -> dict[str, str | None]:
    """The tests field and its setup field: as named, else the first found by name."""
    if tests == NO_TESTS:
        return {"tests": None, "tests_setup": None}
    tests = tests or _first(TESTS_FIELDS, found)
    return {
        "tests": tests,
        "tests_setup": (setup or _first(SETUP_FIELDS, found)) if tests else None,
    }


def detect_layout(filename: str, found: set[str]) -> FieldMapping:
    """The one layout that fits the fields found, else LayoutError for the user to choose."""
    options = candidate_mappings(found)
    if len(options) == 1:
        return options[0]
    listed = ", ".join(sorted(found)) or "none"
    if options:
        choices = "; ".join(describe(m) for m in options)
        message = f"several field layouts fit (fields found: {listed}); choose one: {choices}"
    else:
        message = f"no known field layout (fields found: {listed}); use {SUPPORTED_LAYOUTS}"
        message += ", or choose the question and response fields"
    raise LayoutError(filename, message, found=sorted(found), options=options)


def describe(mapping: FieldMapping) -> str:
    """A short human-readable form, e.g. "qa: question -> answer"."""
    if mapping.layout in CHAT_LAYOUTS:
        return f"{mapping.layout}: chat turns in '{mapping.question}'"
    return f"{mapping.layout}: {mapping.question} -> {mapping.response}"


def check_mapping(filename: str, mapping: FieldMapping, found: set[str]) -> FieldMapping:
    """Validate an explicit mapping against the fields present in the file."""
    if mapping.layout not in LAYOUTS:
        message = f"unknown layout '{mapping.layout}'; use one of {', '.join(sorted(LAYOUTS))}"
        raise UploadError(filename, message)
    if not mapping.question or not mapping.response:
        raise UploadError(filename, "the field mapping must name a question and a response field")
    listed = ", ".join(sorted(found))
    named = (
        mapping.question,
        mapping.response,
        mapping.input,
        mapping.id,
        mapping.gold,
        mapping.category,
        mapping.tests or None,
        mapping.tests_setup,
    )
    for name in named:
        if name is not None and name not in found:
            message = f"the mapping names a field the file does not have (fields found: {listed})"
            raise UploadError(filename, message, field=name)
    if mapping.strategy is not None and mapping.strategy not in found:
        message = f"the strategy column is not in the file (fields found: {listed})"
        raise UploadError(filename, message, field=mapping.strategy)
    tests = _tests_fields(found, mapping.tests, mapping.tests_setup)
    if tests == {"tests": mapping.tests, "tests_setup": mapping.tests_setup}:
        return mapping  # nothing to add: the user's mapping as given
    return replace(mapping, **tests)


def resolve_mapping(
    filename: str, rows: Sequence[tuple[int, dict[str, Any]]], mapping: FieldMapping | None
) -> FieldMapping:
    """The explicit mapping (checked) when given, else the detected one. An ``auto`` mapping
    detects the layout and names only the category field (a user's mapping of categories)."""
    found = field_names(rows)
    if mapping is not None and mapping.layout == "auto":
        detected = detect_layout(filename, found)
        if mapping.category is not None and mapping.category not in found:
            listed = ", ".join(sorted(found))
            message = f"the category field is not in the file (fields found: {listed})"
            raise UploadError(filename, message, field=mapping.category)
        if mapping.tests and mapping.tests not in found:
            listed = ", ".join(sorted(found))
            message = f"the tests field is not in the file (fields found: {listed})"
            raise UploadError(filename, message, field=mapping.tests)
        tests = _tests_fields(found, mapping.tests)
        return replace(detected, category=mapping.category or detected.category, **tests)
    if mapping is not None:
        return check_mapping(filename, mapping, found)
    return detect_layout(filename, found)


# --- chat turns ------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatExample:
    question: str
    response: str
    history_turns: int  # earlier user/assistant turns kept as context in `question`
    dropped_system: bool  # system turns were present and left out


def split_chat(filename: str, line: int, field: str, turns: Any) -> ChatExample:
    """Question and response from a conversation (OpenAI or ShareGPT turn form).

    The response is the final turn, which must be the assistant's. The question is the last
    user turn before it. System turns are left out of the question (reported, not kept).
    Earlier user/assistant turns are kept as context: the question then becomes a
    transcript, each turn as "User: ..." or "Assistant: ...", separated by blank lines and
    ending with "User: <last user turn>". A single-turn conversation gives the user text
    verbatim. Nothing but system turns may stand between the last user turn and the final
    assistant turn.
    """
    if not isinstance(turns, list):
        message = "expected a list of chat turns"
        raise UploadError(filename, message, line=line, field=field)
    parsed = [_turn(filename, line, f"{field}[{i}]", turn) for i, turn in enumerate(turns)]
    dialogue = [(role, text) for role, text in parsed if role != "system"]
    if len(dialogue) < 2 or dialogue[-1][0] != "assistant" or dialogue[-2][0] != "user":
        message = "the conversation must end with a user turn followed by an assistant turn"
        raise UploadError(filename, message, line=line, field=field)
    history = dialogue[:-2]
    return ChatExample(
        question=_compose_question(history, dialogue[-2][1]),
        response=dialogue[-1][1],
        history_turns=len(history),
        dropped_system=len(dialogue) < len(parsed),
    )


def _compose_question(history: list[tuple[str, str]], question: str) -> str:
    if not history or not question.strip():
        return question
    lines = [f"{role.capitalize()}: {text}" for role, text in history]
    lines.append(f"User: {question}")
    return "\n\n".join(lines)


def _turn(filename: str, line: int, where: str, turn: Any) -> tuple[str, str]:
    if not isinstance(turn, dict):
        message = "each chat turn must be an object with role and content"
        raise UploadError(filename, message, line=line, field=where)
    role = turn.get("role", turn.get("from"))
    canonical = ROLES.get(role.strip().lower()) if isinstance(role, str) else None
    if canonical is None:
        message = f"unsupported role {role!r}; expected system, user or assistant"
        raise UploadError(filename, message + " (ShareGPT: human, gpt)", line=line, field=where)
    content = _content_text(filename, line, where, turn.get("content", turn.get("value")))
    return canonical, refuse_nul(filename, content, line=line, field=f"{where}.content")


def _content_text(filename: str, line: int, where: str, content: Any) -> str:
    """A turn's text: a string, or OpenAI content parts that are all text."""
    if isinstance(content, str):
        return content
    if isinstance(content, list) and all(_is_text_part(p) for p in content):
        return "".join(part["text"] for part in content)
    message = "a chat turn's content must be text"
    raise UploadError(filename, message, line=line, field=f"{where}.content")


def _is_text_part(part: Any) -> bool:
    return (
        isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
    )


def _first(candidates: Sequence[str], found: set[str]) -> str | None:
    return next((name for name in candidates if name in found), None)
