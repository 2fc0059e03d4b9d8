"""Named answer extractors: a model output -> its final answer -> right or wrong against gold.

Each extractor has ``extract(output) -> str | None`` (None: no answer found, which is
wrong) and ``correct(extracted, gold) -> bool``; ``score_output`` does both and says why.
Golds go through :func:`gold_answer` first, so a full gold solution ("... #### 72") and a
bare gold ("72.0") score alike. Torch-free: the web app re-scores saved predictions.

- ``last_number`` (the research rule, ``calc_accuracy_GSM8K`` of the SPPL/"I Learn Better"
  code): the last number of the last ``\\boxed{}`` when there is one with a number, else the
  last number of the output; tolerant of thousands commas, ``$``, units, LaTeX
  ``\\frac{a}{b}``, fractions ``3/4``, negatives and a trailing full stop. Compared with
  the gold as both formatted to 2 decimals (``f"{x:.2f}"``), as the research does.
  Departure: the research divides a number written with ``%`` by 100 ("25%" -> 0.25), which
  marks "25%" wrong against a GSM8K gold "25"; here ``%`` is a unit like "dollars".
- ``final_answer`` (the research "Final Answer:" convention: its prompts ask for the answer
  "at the end, after 'Final Answer:'"): the first line after the LAST "Final Answer" marker
  (no marker: no answer). A numeric gold is compared with that line's last number to 2
  decimals; another gold by normalised text (case, whitespace, quotes, final full stop).
- ``gsm8k_strict`` / ``gsm8k_flexible``: lm-evaluation-harness's GSM8K filters, as in
  ``lm_eval/tasks/gsm8k/gsm8k.yaml`` (task version 3.0; harness v0.4.12-48-g4e7e0d47, read
  from EleutherAI/lm-evaluation-harness at commit 4e7e0d47): strict = the FIRST match of
  ``#### (\\-?[0-9\\.\\,]+)``; flexible = the LAST match of ``(-?[$0-9.,]{2,})|(-?[0-9]+)``
  (its first non-empty group), both stripped (``RegexFilter``; no match = "[invalid]",
  here None). Scored as the harness's ``exact_match`` with that task's options: on both
  sides remove ``,``, ``$``, ``(?s).*#### `` and one trailing ``.`` (``re.sub`` in that
  order), lower-case, then compare strings.
- ``option_letter``: the option label (A-J, or 1-10) the output commits to: after its last
  answer marker ("Final Answer:", "the answer is", ``\\boxed{}``), else its last line when
  that line starts with a label; vs the gold's label ("B", "(B)", "B. text").
- ``exact_match``: the text after the last "Final Answer" marker (else the whole output)
  equals the gold after normalising case, whitespace, surrounding quotes/markup and a
  final punctuation mark.
- ``math_equiv``: mathematical equivalence by math-verify (``\\frac{1}{2}`` = ``0.5`` =
  ``1/2``, ``\\sqrt{2}`` = ``2^{1/2}``, intervals, sets...). The answer is the last
  ``\\boxed{}``, else the text after the last answer marker (or GSM8K's "####"), else the
  last one-line ``$...$`` / ``\\(...\\)`` span, else the last number. Time-bounded in a
  child process (``app.evaluation.math_equiv``); a check that times out counts as wrong and
  says so.

``gold_answer`` on gold solutions: GSM8K "#### 72" -> "72"; research "Final Answer: 72"
-> "72"; a lone ``\\boxed{x}`` -> "x"; a decimal with trailing zeros ("72.0", as the
research files store golds) -> "72", so the harness's string comparison sees the GSM8K
gold as GSM8K writes it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from app.evaluation.markers import STRONG_MARKER, boxed_contents, final_statement
from app.evaluation.math_equiv import check_equivalent
from app.evaluation.numbers import as_number, numbers_in, to_float
from app.evaluation.options import LABEL_IN_ANSWER, final_choice
from app.specs.scan import suggest

Check = tuple[bool, str]  # (correct, why)

GSM8K_STRICT = re.compile(r"#### (\-?[0-9\.\,]+)")
GSM8K_FLEXIBLE = re.compile(r"(-?[$0-9.,]{2,})|(-?[0-9]+)")
GSM8K_IGNORE = (",", "\\$", "(?s).*#### ", "\\.$")  # gsm8k.yaml regexes_to_ignore, in order
MATH_SPAN = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$|\\\((.+?)\\\)|\\\[(.+?)\\\]", re.S)
TRAILING_ZEROS = re.compile(r"(-?[\d,]*\d\.\d*?)0+")
WRAPPING = " \t\n\"'`*_"
MAX_SEGMENT = 300


class UnknownExtractorError(ValueError):
    """No extractor of that name; the message suggests the closest known name."""


@dataclass(frozen=True)
class Scored:
    extractor: str
    extracted: str | None
    gold: str  # the gold answer compared with (``gold_answer`` of the gold given)
    correct: bool
    why: str = ""  # how the verdict was reached, for the per-question view


@dataclass(frozen=True)
class Extractor:
    name: str
    title: str
    description: str
    extract_fn: Callable[[str], str | None] = field(repr=False)
    check_fn: Callable[[str, str], Check] = field(repr=False)

    def extract(self, output: str) -> str | None:
        """The final answer in ``output``, or None when there is none."""
        return self.extract_fn(output or "")

    def check(self, extracted: str | None, gold: str) -> Check:
        """(correct, why) of an extracted answer against a gold (``gold_answer`` applied)."""
        if extracted is None:
            return False, "no answer found in the output"
        return self.check_fn(extracted, gold_answer(gold))

    def correct(self, extracted: str | None, gold: str) -> bool:
        return self.check(extracted, gold)[0]


# -- gold answers ---------------------------------------------------------------------------


def _unwrap(text: str) -> str:
    """``\\boxed{x}`` -> ``x`` and ``$x$`` -> ``x`` when they wrap the whole text."""
    text = text.strip()
    boxed = boxed_contents(text)
    if boxed and text.startswith("\\boxed") and text.endswith("}") and len(boxed) == 1:
        text = boxed[0].strip()
    if len(text) > 2 and text.startswith("$") and text.endswith("$") and text.count("$") == 2:
        text = text[1:-1].strip()
    return text


def canonical_number(text: str) -> str:
    """A decimal's trailing zeros dropped ("72.0" -> "72", "2.50" -> "2.5"); else as is."""
    m = TRAILING_ZEROS.fullmatch(text)
    return m.group(1).rstrip(".") if m else text


def gold_answer(gold_text: str) -> str:
    """The final answer of a gold solution (see the module docstring), stripped."""
    text = (gold_text or "").strip()
    if "####" in text:
        text = text.rsplit("####", 1)[1].strip()
    elif markers := list(STRONG_MARKER.finditer(text)):
        text = text[markers[-1].end() :].strip().split("\n", 1)[0]
    return canonical_number(_unwrap(text))


# -- shared pieces --------------------------------------------------------------------------


def _two(x: float) -> str:
    return f"{x:.2f}".replace("-0.00", "0.00")


def _same_to_2_decimals(got: str, want: float) -> Check:
    value = to_float(got)
    if value is None:
        return False, f"{got!r} is not a number"
    ok = _two(value) == _two(want)
    return ok, f"{_two(value)} {'=' if ok else '≠'} {_two(want)} (2 decimals)"


def _gold_number(gold: str) -> float | None:
    return as_number(gold)


def norm_text(text: str) -> str:
    """Case and whitespace folded, surrounding quotes/markup and a final punctuation removed."""
    text = " ".join((text or "").split()).casefold().strip(WRAPPING)
    return text.rstrip(".,;:!?").strip(WRAPPING)


def _text_equal(got: str, gold: str) -> Check:
    want = norm_text(gold)
    ok = bool(want) and norm_text(got) == want
    return ok, "equal after normalising" if ok else "differs after normalising"


def _after_last_final_answer(output: str) -> str | None:
    markers = list(STRONG_MARKER.finditer(output))
    if not markers:
        return None
    rest = output[markers[-1].end() :].strip().lstrip("*").strip()
    line = rest.split("\n", 1)[0].strip()[:MAX_SEGMENT]
    line = _unwrap(line.strip(WRAPPING))
    return line.rstrip(".").strip() or None


def _clean_number(token: str) -> str:
    return token.replace(",", "").replace(" ", "")


# -- last_number ----------------------------------------------------------------------------


def extract_last_number(output: str) -> str | None:
    boxed = [b for b in boxed_contents(output) if numbers_in(b)]
    found = numbers_in(boxed[-1] if boxed else output)
    return _clean_number(found[-1]) if found else None


def check_number(extracted: str, gold: str) -> Check:
    want = _gold_number(gold)
    if want is None:
        return False, f"the gold {gold!r} is not a number"
    return _same_to_2_decimals(extracted, want)


# -- final_answer ---------------------------------------------------------------------------


def check_final_answer(extracted: str, gold: str) -> Check:
    want = _gold_number(gold)
    if want is None:
        return _text_equal(extracted, gold)
    found = numbers_in(extracted)
    if not found:
        return False, "no number after 'Final Answer:'"
    return _same_to_2_decimals(_clean_number(found[-1]), want)


# -- lm-evaluation-harness GSM8K ------------------------------------------------------------


def extract_gsm8k_strict(output: str) -> str | None:
    found = GSM8K_STRICT.findall(output)
    return found[0].strip() if found else None


def extract_gsm8k_flexible(output: str) -> str | None:
    found = GSM8K_FLEXIBLE.findall(output)
    if not found:
        return None
    groups = [g for g in found[-1] if g]
    return groups[0].strip() if groups else None


def lm_eval_normalise(text: str) -> str:
    """The gsm8k task's exact_match normalisation (regexes_to_ignore, ignore_case)."""
    for pattern in GSM8K_IGNORE:
        text = re.sub(pattern, "", text)
    return text.lower()


def check_lm_eval(extracted: str, gold: str) -> Check:
    got, want = lm_eval_normalise(extracted), lm_eval_normalise(gold)
    ok = got == want
    return ok, f"{got!r} {'=' if ok else '≠'} {want!r} (lm-eval exact match)"


# -- option_letter --------------------------------------------------------------------------


def extract_option(output: str) -> str | None:
    return final_choice(output, []).label


def gold_label(gold: str) -> str | None:
    m = LABEL_IN_ANSWER.match(gold.strip())
    return m.group(1).upper() if m else None


def check_option(extracted: str, gold: str) -> Check:
    want = gold_label(gold)
    if want is None:
        return False, f"the gold {gold!r} names no option label"
    ok = extracted.strip().upper() == want
    return ok, f"option {extracted} {'=' if ok else '≠'} {want}"


# -- exact_match ----------------------------------------------------------------------------


def extract_exact(output: str) -> str | None:
    text = _after_last_final_answer(output)
    return text if text is not None else (output.strip() or None)


# -- math_equiv -----------------------------------------------------------------------------


def extract_math(output: str) -> str | None:
    said, _ = final_statement(output)  # the last \boxed{}, else after the last answer marker
    if not said and "####" in output:
        said = output.rsplit("####", 1)[1].strip().split("\n", 1)[0]
    if said:
        return said.strip().rstrip(".").strip() or None
    spans = [s for s in MATH_SPAN.findall(output) if "\n" not in "".join(s)]
    if spans:  # a span over a line break is two currency amounts, not an inline formula
        return next(g for g in spans[-1] if g).strip()
    found = numbers_in(output)
    return _clean_number(found[-1]) if found else None


def check_math(extracted: str, gold: str) -> Check:
    verdict = check_equivalent(extracted, gold)
    if verdict.why:
        return False, verdict.why
    ok = verdict.equivalent
    return ok, f"{'equivalent' if ok else 'not equivalent'} (math-verify)"


EXTRACTORS: dict[str, Extractor] = {
    e.name: e
    for e in (
        Extractor(
            "last_number",
            "Last number",
            "The last number of the output (of its last \\boxed{} when present), tolerant of "
            "commas, $, units, fractions; equal to the gold at 2 decimals (the research rule).",
            extract_last_number,
            check_number,
        ),
        Extractor(
            "final_answer",
            "Final Answer:",
            "The line after the last 'Final Answer:' (none: wrong); its last number vs a "
            "numeric gold at 2 decimals, else normalised text.",
            _after_last_final_answer,
            check_final_answer,
        ),
        Extractor(
            "gsm8k_strict",
            "GSM8K strict (lm-eval)",
            "lm-evaluation-harness GSM8K strict-match: the first '#### number', compared as "
            "the harness does (commas, $, a final '.' and case ignored).",
            extract_gsm8k_strict,
            check_lm_eval,
        ),
        Extractor(
            "gsm8k_flexible",
            "GSM8K flexible (lm-eval)",
            "lm-evaluation-harness GSM8K flexible-extract: the last number-like match, "
            "compared as the harness does.",
            extract_gsm8k_flexible,
            check_lm_eval,
        ),
        Extractor(
            "option_letter",
            "Option letter",
            "The option label (A-J or 1-10) the output commits to, vs the gold's label.",
            extract_option,
            check_option,
        ),
        Extractor(
            "exact_match",
            "Exact match",
            "The text after the last 'Final Answer:' (else the whole output) equals the gold, "
            "ignoring case, whitespace, quotes and a final punctuation mark.",
            extract_exact,
            _text_equal,
        ),
        Extractor(
            "math_equiv",
            "Math equivalence",
            "The final (boxed) answer is mathematically equal to the gold (math-verify): "
            "\\frac{1}{2} = 0.5, intervals, sets, expressions.",
            extract_math,
            check_math,
        ),
    )
}


def get_extractor(name: str) -> Extractor:
    """The extractor called ``name``; on a typo the error suggests the closest name."""
    if name in EXTRACTORS:
        return EXTRACTORS[name]
    hint, known = suggest(name, list(EXTRACTORS)), ", ".join(EXTRACTORS)
    raise UnknownExtractorError(f"unknown extractor {name!r}{hint} (known: {known})")


def score_output(extractor: str, output: str, gold: str) -> Scored:
    """Extract the answer of ``output`` and judge it against ``gold`` with one extractor."""
    rule = get_extractor(extractor)
    extracted = rule.extract(output)
    ok, why = rule.check(extracted, gold)
    return Scored(rule.name, extracted, gold_answer(gold), ok, why)


def rescore(extractor: str, outputs_and_golds: Iterable[tuple[str, str]]) -> list[Scored]:
    """``score_output`` of saved (output, gold) pairs, in order, without running a model."""
    get_extractor(extractor)  # a typo fails before any work
    return [score_output(extractor, output, gold) for output, gold in outputs_and_golds]


def _is_latex(gold: str) -> bool:
    return any(mark in gold for mark in ("\\", "^", "{", "$")) or bool(
        re.fullmatch(r"[\[(]\s*-?[\d./]+\s*(,\s*-?[\d./]+\s*)+[\])]", gold)
    )


def suggest_extractor(golds: Sequence[str]) -> str:
    """The extractor that fits these golds: numbers -> last_number, option labels ->
    option_letter, LaTeX/maths (with or without plain numbers) -> math_equiv, else
    exact_match."""
    answers = [gold_answer(g) for g in golds if g is not None and str(g).strip()]
    if not answers:
        return "exact_match"
    if all(as_number(a) is not None for a in answers):
        return "last_number"
    if all(re.fullmatch(r"\(?[A-J]\)?\.?", a) for a in answers):
        return "option_letter"
    if any(_is_latex(a) for a in answers) and all(
        _is_latex(a) or as_number(a) is not None for a in answers
    ):
        return "math_equiv"
    return "exact_match"
