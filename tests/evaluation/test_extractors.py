"""Answer extractors on the real GSM8K golds and on hand-made hard cases."""

from __future__ import annotations

import json
import re

import pytest

from app.evaluation.extractors import (
    EXTRACTORS,
    UnknownExtractorError,
    gold_answer,
    lm_eval_normalise,
    rescore,
    score_output,
    suggest_extractor,
)
from tests.paths import GSM8K_DIR

needs_data = pytest.mark.skipif(not GSM8K_DIR.is_dir(), reason=f"no research data at {GSM8K_DIR}")
STRATEGY_FILES = (
    "claude.json",
    "gpt4.json",
    "mini_gpt4_simple_response.json",
    "train_filtered.json",
)


def _load(name: str) -> list[dict]:
    return json.loads((GSM8K_DIR / name).read_text(encoding="utf-8"))


def _ok(extractor: str, output: str, gold: str) -> bool:
    return score_output(extractor, output, gold).correct


# -- the real GSM8K golds --------------------------------------------------------------------


@needs_data
def test_gold_answer_of_every_gsm8k_test_solution_is_its_hash_answer() -> None:
    rows = _load("test.json")
    assert len(rows) == 1319
    for row in rows:
        want = row["answer"].rsplit("#### ", 1)[1].strip()
        assert gold_answer(row["answer"]) == want
        for name in ("gsm8k_strict", "gsm8k_flexible", "last_number", "math_equiv"):
            scored = score_output(name, row["answer"], row["answer"])
            assert scored.correct, (name, row["answer"][-60:], scored)


@needs_data
def test_the_filtered_test_set_self_matches_under_every_numeric_rule() -> None:
    """The research test file writes "Final Answer: 18" and numerical_final_answer "18.0"."""
    rows = _load("test_filtered.json")
    for row in rows:
        gold = gold_answer(row["answer"])
        for name in ("final_answer", "last_number", "gsm8k_flexible", "math_equiv"):
            assert _ok(name, row["answer"], gold), (name, row["answer"][-60:])
        assert not _ok("gsm8k_strict", row["answer"], gold)  # no "####" in this file
        assert score_output("final_answer", row["answer"], row["answer"]).gold == gold


@needs_data
def test_the_research_numerical_answer_is_truncated_at_a_thousands_comma() -> None:
    """A data bug worth knowing: the research's numerical_final_answer of "2,125" is "2.0".

    Everywhere else it equals the solution's final answer; gold_answer reads the solution.
    """
    rows = _load("test_filtered.json")
    wrong = [
        r
        for r in rows
        if float(gold_answer(r["answer"]).replace(",", "")) != float(r["numerical_final_answer"])
    ]
    assert len(wrong) == 14
    for row in wrong:
        solution = gold_answer(row["answer"])
        assert "," in solution
        assert float(row["numerical_final_answer"]) == float(solution.split(",")[0])


@needs_data
@pytest.mark.parametrize("name", STRATEGY_FILES)
def test_last_number_agrees_with_the_research_correct_flags(name: str) -> None:
    """The research's own verdicts (its ``correct`` field) on 1000 responses per strategy."""
    rows = _load(name)
    verdicts = rescore("last_number", [(r["answer"], r["gold_label"]) for r in rows])
    pairs = zip(rows, verdicts, strict=True)
    disagree = [r["answer"][-60:] for r, s in pairs if s.correct != r["correct"]]
    assert disagree == []


# -- last_number -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "gold", "extracted", "correct"),
    [
        ("She pays 1,000 + 250 = 1,250 dollars.", "1250", "1250", True),
        ("The total is $18.", "18.0", "18", True),
        ("It costs $1,234,567.50 in all", "1234567.5", "1234567.50", True),
        ("so 3/4 of the pie is left", "0.75", "3/4", True),
        ("\\frac{3}{4}", "0.75", "3/4", True),
        ("The temperature fell to -5 degrees.", "-5", "-5", True),
        ("The answer is 72.", "72", "72", True),
        ("Hence \\boxed{42} (and 7 more ways)", "42", "42", True),
        ("\\boxed{\\frac{1}{3}} then 9", "0.33", "1/3", True),  # 2 decimals, as the research
        ("0.333", "1/3", "0.333", True),
        ("0.3", "1/3", "0.3", False),
        ("25% of them", "25", "25", True),  # % is a unit here (the research divides by 100)
        ("She has 5 apples and 3 pears, so 8 fruits", "5", "8", False),  # the LAST number
        ("no digits here", "5", None, False),
        ("1/0 of it", "5", "1/0", False),
    ],
)
def test_last_number_hard_cases(
    output: str, gold: str, extracted: str | None, correct: bool
) -> None:
    scored = score_output("last_number", output, gold)
    assert (scored.extracted, scored.correct) == (extracted, correct), scored


def test_last_number_compares_at_two_decimals_like_the_research() -> None:
    assert _ok("last_number", "12.004", "12")
    assert not _ok("last_number", "12.006", "12")
    assert _ok("last_number", "-0.001", "0")  # "-0.00" is "0.00"
    assert not _ok("last_number", "5", "a cat")


# -- final_answer ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "gold", "extracted", "correct"),
    [
        ("48 + 24 = 72\nFinal Answer: 72", "72.0", "72", True),
        ("Final Answer: 48 + 24 = 72", "72", "48 + 24 = 72", True),
        ("final answer: $18.00.", "18", "$18.00", True),
        ("**Final Answer:** 1,600 calories", "1600", "1,600 calories", True),
        ("Final Answer: \\boxed{5}", "5", "5", True),
        ("Final Answer:\n\n12", "12", "12", True),
        ("Final Answer: 3\nWait, no.\nFinal Answer: 4", "4", "4", True),  # the LAST marker
        ("The final answer is 7", "7", "7", True),
        ("The answer is 72", "72", None, False),  # no "Final Answer": no answer
        ("Final Answer: Paris.", "paris", "Paris", True),
        ('Final Answer: "Entailment"', "entailment", "Entailment", True),
        ("Final Answer: none", "12", "none", False),
    ],
)
def test_final_answer_hard_cases(
    output: str, gold: str, extracted: str | None, correct: bool
) -> None:
    scored = score_output("final_answer", output, gold)
    assert (scored.extracted, scored.correct) == (extracted, correct), scored


# -- lm-evaluation-harness GSM8K -------------------------------------------------------------


def test_the_harness_normalisation() -> None:
    assert lm_eval_normalise("$1,000.") == "1000"
    assert lm_eval_normalise("Natalia sold 72.\n#### 72") == "72"
    assert lm_eval_normalise("18.0") == "18.0"  # the harness compares strings


@pytest.mark.parametrize(
    ("output", "strict", "flexible"),
    [
        ("So 5 + 3 = 8.\n#### 8", "8", "8"),
        ("#### 8\nThen 9 more: 17", "8", "17"),  # strict: first ####; flexible: last number
        ("The answer is 8.", None, "8."),  # no ####: strict finds nothing
        ("It costs $1,000.", None, "$1,000."),
        ("#### -3", "-3", "-3"),
        ("#### $5", None, "$5"),  # strict needs a digit right after "#### "
        ("x is 7", None, "7"),  # a single digit: the second alternative
        ("nothing", None, None),
    ],
)
def test_strict_and_flexible_extraction(
    output: str, strict: str | None, flexible: str | None
) -> None:
    assert EXTRACTORS["gsm8k_strict"].extract(output) == strict
    assert EXTRACTORS["gsm8k_flexible"].extract(output) == flexible


def test_strict_and_flexible_disagree_on_the_same_output() -> None:
    output = "#### 8\nOops, adding the 9 I forgot: 17"
    assert _ok("gsm8k_strict", output, "8") and not _ok("gsm8k_flexible", output, "8")
    assert _ok("gsm8k_flexible", "The answer is $1,000.", "1000")
    assert not _ok("gsm8k_strict", "The answer is $1,000.", "1000")
    # Strings, as the harness: "18.50" is not "18.5"; a research gold "18.0" is read as "18".
    assert not _ok("gsm8k_flexible", "it is 18.50", "18.5")
    assert _ok("gsm8k_strict", "#### 18", "18.0")


# -- option_letter, exact_match --------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "gold", "correct"),
    [
        ("The answer is (B).", "B", True),
        ("Final Answer: C", "(C)", True),
        ("Final Answer: C. Paris", "C. Paris", True),
        ("I think it is A because\nA", "A", True),
        ("Final Answer: D", "B", False),
        ("I think B is right", "B", False),  # no final commitment: no answer
        ("Final Answer: 2", "2", True),  # numbered options
    ],
)
def test_option_letter(output: str, gold: str, correct: bool) -> None:
    assert _ok("option_letter", output, gold) is correct


def test_exact_match_normalises_case_whitespace_quotes_and_a_final_stop() -> None:
    assert _ok("exact_match", "Final Answer:   New  York.", "new york")
    assert _ok("exact_match", '"Paris"', "paris")
    assert not _ok("exact_match", "Paris, France", "paris")
    assert not _ok("exact_match", "anything", "")


# -- math_equiv ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("output", "gold", "correct"),
    [
        ("So the answer is \\boxed{\\frac{1}{2}}.", "0.5", True),
        ("The answer is $0.5$", "\\frac{1}{2}", True),
        ("Final Answer: 1/2", "\\dfrac{1}{2}", True),
        ("\\boxed{2^{1/2}}", "\\sqrt{2}", True),
        ("\\boxed{(1, 2)}", "(1,2)", True),
        ("\\boxed{x = 3}", "3", True),
        ("\\boxed{\\frac{2}{3}}", "0.5", False),
        ("I got \\(\\pi\\)", "\\pi", True),
        ("18 dollars", "18", True),
    ],
)
def test_math_equivalence(output: str, gold: str, correct: bool) -> None:
    assert _ok("math_equiv", output, gold) is correct, score_output("math_equiv", output, gold)


# -- registry, gold_answer, suggestions ------------------------------------------------------


def test_every_extractor_is_named_and_described() -> None:
    assert set(EXTRACTORS) == {
        "last_number",
        "final_answer",
        "gsm8k_strict",
        "gsm8k_flexible",
        "option_letter",
        "exact_match",
        "math_equiv",
    }
    for name, extractor in EXTRACTORS.items():
        assert extractor.name == name and extractor.title and extractor.description
        assert extractor.correct(None, "1") is False


def test_a_typo_suggests_the_closest_extractor() -> None:
    with pytest.raises(UnknownExtractorError, match="did you mean 'last_number'"):
        score_output("last_numbr", "1", "1")
    with pytest.raises(UnknownExtractorError, match="did you mean 'gsm8k_strict'"):
        rescore("gsm8k_strikt", [])


@pytest.mark.parametrize(
    ("gold", "answer"),
    [
        ("Natalia sold 48/2 = <<48/2=24>>24 clips.\n#### 72", "72"),
        ("blah\nFinal Answer: 72", "72"),
        ("Final Answer: $\\frac{1}{2}$", "\\frac{1}{2}"),
        ("\\boxed{\\frac{3}{4}}", "\\frac{3}{4}"),
        ("72.0", "72"),
        ("2.50", "2.5"),
        ("100", "100"),
        ("1,000", "1,000"),
        ("  Paris ", "Paris"),
        ("", ""),
    ],
)
def test_gold_answer(gold: str, answer: str) -> None:
    assert gold_answer(gold) == answer


def test_rescore_keeps_order_and_each_verdict() -> None:
    pairs = [("#### 5", "5"), ("#### 6", "5"), ("nothing", "5")]
    assert [s.correct for s in rescore("gsm8k_strict", pairs)] == [True, False, False]
    assert [s.extracted for s in rescore("gsm8k_strict", pairs)] == ["5", "6", None]


@pytest.mark.parametrize(
    ("golds", "name"),
    [
        (["72.0", "5", "1,000", "-3"], "last_number"),
        (["A", "(B)", "C."], "option_letter"),
        (["\\frac{1}{2}", "5", "(1, 2)"], "math_equiv"),
        (["Paris", "5"], "exact_match"),
        (["Natalia ...\n#### 72", "#### 5"], "last_number"),
        ([], "exact_match"),
    ],
)
def test_suggest_extractor(golds: list[str], name: str) -> None:
    assert suggest_extractor(golds) == name


def test_the_module_cites_the_harness_regexes_it_uses() -> None:
    """The strict/flexible patterns are the harness's gsm8k.yaml strings, verbatim."""
    from app.evaluation import extractors

    assert extractors.GSM8K_STRICT.pattern == "#### (\\-?[0-9\\.\\,]+)"
    assert extractors.GSM8K_FLEXIBLE.pattern == "(-?[$0-9.,]{2,})|(-?[0-9]+)"
    assert re.search("4e7e0d47", extractors.__doc__ or "")


def test_rescoring_imports_no_torch_or_workers() -> None:
    """The web app re-scores saved predictions: every extractor runs without the workers."""
    import subprocess
    import sys

    from tests.paths import ROOT

    code = (
        "import sys\n"
        "from app.evaluation.extractors import EXTRACTORS, score_output\n"
        "import app.stats.validation\n"
        "assert all(score_output(n, 'Final Answer: 5', '5') is not None for n in EXTRACTORS)\n"
        "assert score_output('math_equiv', '\\\\boxed{\\\\frac{1}{2}}', '0.5').correct\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'transformers', 'workers', 'peft'))\n"
        "print(bad)\n"
        "sys.exit(1 if bad else 0)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stdout + out.stderr
