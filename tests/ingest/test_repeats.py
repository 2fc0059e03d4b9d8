"""Repeated questions within a file, ids over text, other prompt formats (pure matcher)."""

from __future__ import annotations

from app.ingest.matching import QuestionMatcher
from app.ingest.repeats import count_repeats
from tests.ingest.helpers import parse_rows

LONG = "A farmer has 12 cows and buys 7 more cows at the market. How many cows now?"


def _pair(
    first: list[tuple[str, str | None, str | None]],
    second: list[tuple[str, str | None, str | None]],
) -> list[int | None]:  # noqa: E501
    """Index (in ``first``) each row of ``second`` pairs with; rows are (text, id, gold)."""
    matcher: QuestionMatcher[int] = QuestionMatcher()
    taken: set[int] = set()
    for i, (text, qid, gold) in enumerate(first):
        match = matcher.find(text, qid, gold, taken)
        value = match.value if match else i
        if match is None:
            matcher.add(text, i, qid, gold)
        taken.add(value)
    out: list[int | None] = []
    taken = set()
    for text, qid, gold in second:
        match = matcher.find(text, qid, gold, taken)
        out.append(match.value if match else None)
        if match:
            taken.add(match.value)
    return out


def test_repeats_pair_in_order_of_occurrence() -> None:
    rows = [("q", None, "5"), ("other", None, "1"), ("q", None, "5")]
    assert _pair(rows, rows) == [0, 1, 2]


def test_repeats_with_different_gold_pair_by_gold() -> None:
    first = [("q", None, "5"), ("q", None, "7")]
    assert _pair(first, [("q", None, "7"), ("q", None, "5")]) == [1, 0]


def test_repeat_with_different_gold_stays_separate_question() -> None:
    matcher: QuestionMatcher[int] = QuestionMatcher()
    matcher.add("q", 0, None, "5")
    assert matcher.find("q", None, "7", taken={0}) is None


def test_whitespace_only_repeat_is_the_same_text() -> None:
    first = [("What is  2+2?", None, "4"), ("what is 2+2? ", None, "4")]
    assert _pair(first, [("What is 2+2?", None, "4")] * 2) == [0, 1]


def test_explicit_ids_are_never_merged_by_text() -> None:
    first = [("same text", "a", None), ("same text", "b", None)]
    assert _pair(first, [("same text", "b", None), ("same text", "a", None)]) == [1, 0]
    matcher: QuestionMatcher[int] = QuestionMatcher()
    matcher.add("same text", 0, "a")
    assert matcher.find("same text", "c") is None


def test_question_without_id_still_matches_by_text() -> None:
    assert _pair([("same text", "a", None)], [("same text", None, None)]) == [0]


def test_instruction_line_before_or_after_matches_as_contained() -> None:
    matcher: QuestionMatcher[int] = QuestionMatcher()
    matcher.add(LONG, 0)
    before = matcher.find(f"Answer the question below.\n{LONG}")
    after = matcher.find(f"{LONG}\nPlease give the final answer after 'Final Answer:'.")
    assert before is not None and before.rule == "contained" and before.value == 0
    assert after is not None and after.value == 0


def test_other_option_formatting_matches() -> None:
    stored = "Where would you buy fresh bread? (1) bakery (2) garage (3) library (4) pond"
    other = "Where would you buy fresh bread?\n1. bakery\n2. garage\n3. library\n4. pond"
    matcher: QuestionMatcher[int] = QuestionMatcher()
    matcher.add(stored, 0)
    match = matcher.find(other)
    assert match is not None and (match.value, match.rule) == (0, "contained")


def test_ambiguous_containment_matches_nothing() -> None:
    matcher: QuestionMatcher[int] = QuestionMatcher()
    matcher.add(f"{LONG} Answer in words.", 0)
    matcher.add(f"{LONG} Answer in digits.", 1)
    assert matcher.find(LONG) is None


def test_count_repeats_by_gold_and_whitespace() -> None:
    parsed = parse_rows(
        {"question": "q1", "answer": "a", "gold_label": "5"},
        {"question": "q1", "answer": "b", "gold_label": "5"},
        {"question": "Q1 ", "answer": "c", "gold_label": "6"},
        {"question": "q2", "answer": "d", "gold_label": "1"},
    )
    repeats = count_repeats(parsed.records)
    assert repeats["rows"] == 2
    assert (repeats["same_gold"], repeats["different_gold"]) == (1, 1)
    assert repeats["whitespace_only"] == 1
    assert repeats["examples"] == [[1, 2], [1, 3]]


def test_headless_scan_reads_repeats_as_separate_questions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from workers.scan_cli import read_corpus

    rows = [
        '{"question": "q", "answer": "a1", "gold_label": "1"}',
        '{"question": "q", "answer": "a2", "gold_label": "2"}',
    ]
    first, second = tmp_path / "one.jsonl", tmp_path / "two.jsonl"
    first.write_text("\n".join(rows) + "\n")
    second.write_text("\n".join(reversed(rows)) + "\n")
    corpus = read_corpus([first, second])
    assert len(corpus.texts) == 2
    keys = list(corpus.texts)
    assert [corpus.golds[k] for k in keys] == ["1", "2"]
    assert [corpus.responses["two"][k] for k in keys] == ["a1", "a2"]  # paired by gold
