"""Field layouts detected from small inline files, and explicit mappings."""

from __future__ import annotations

import pytest

from app.ingest import FieldMapping, LayoutError, parse_bytes
from tests.ingest.helpers import jsonl, parse_rows


def test_research_layout_appends_non_empty_input_and_keeps_numbers_as_written() -> None:
    parsed = parse_rows(
        {"question": "Add them.", "input": "2 and 3", "answer": "5", "gold": 5.0, "qid": 7},
        {"question": "Double 4.", "input": "", "answer": "8", "gold": 8, "qid": 8},
    )
    first, second = parsed.records
    assert parsed.mapping.layout == "qa"
    assert (parsed.mapping.gold, parsed.mapping.id) == ("gold", "qid")
    assert first.question == "Add them.\n\n2 and 3"
    assert (first.gold, first.source_id) == ("5.0", "7")
    assert (second.question, second.gold) == ("Double 4.", "8")


def test_gold_candidates_follow_priority() -> None:
    parsed = parse_rows(
        {"question": "q", "answer": "a", "numerical_final_answer": "1.0", "gold_label": "2.0"}
    )
    assert parsed.mapping.gold == "gold_label"
    assert parsed.records[0].gold == "2.0"


def test_alpaca() -> None:
    parsed = parse_rows(
        {"instruction": "Translate to French.", "input": "cat", "output": "chat"},
        {"instruction": "Say hi.", "input": "", "output": "hi"},
    )
    assert parsed.mapping == FieldMapping("alpaca", "instruction", "output", input="input")
    assert [(r.question, r.response) for r in parsed.records] == [
        ("Translate to French.\n\ncat", "chat"),
        ("Say hi.", "hi"),
    ]


@pytest.mark.parametrize(
    ("question", "response"),
    [("prompt", "response"), ("prompt", "completion"), ("question", "response")],
)
def test_prompt_response_variants(question: str, response: str) -> None:
    parsed = parse_rows({question: "What is 2+2?", response: "4", "id": "a1"})
    assert parsed.mapping.layout == "prompt_response"
    assert (parsed.mapping.question, parsed.mapping.response) == (question, response)
    record = parsed.records[0]
    assert (record.question, record.response, record.source_id) == ("What is 2+2?", "4", "a1")


def test_openai_messages_single_turn_leaves_system_out() -> None:
    messages = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4"},
    ]
    parsed = parse_rows({"messages": messages, "id": 1})
    assert parsed.mapping.layout == "messages"
    record = parsed.records[0]
    assert (record.question, record.response, record.source_id) == ("What is 2+2?", "4", "1")
    assert parsed.warnings == ["system turns in 1 conversation(s) were left out"]


def test_openai_messages_multi_turn_keeps_history_as_transcript() -> None:
    messages = [
        {"role": "user", "content": "I have 3 apples."},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": [{"type": "text", "text": "I eat one. How many left?"}]},
        {"role": "assistant", "content": "2"},
    ]
    parsed = parse_rows({"messages": messages})
    record = parsed.records[0]
    assert record.question == (
        "User: I have 3 apples.\n\nAssistant: Noted.\n\nUser: I eat one. How many left?"
    )
    assert record.response == "2"
    assert "kept as context" in parsed.warnings[0]


def test_sharegpt_conversations() -> None:
    conversations = [
        {"from": "system", "value": "Be helpful."},
        {"from": "human", "value": "Name a prime."},
        {"from": "gpt", "value": "7"},
    ]
    parsed = parse_rows({"conversations": conversations})
    assert parsed.mapping.layout == "sharegpt"
    assert (parsed.records[0].question, parsed.records[0].response) == ("Name a prime.", "7")


def test_chat_must_end_with_the_assistant() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]
    messages.append({"role": "user", "content": "Bye"})
    with pytest.raises(ValueError) as caught:
        parse_rows({"messages": messages}, name="chat.jsonl")
    assert str(caught.value) == (
        "chat.jsonl, line 1, field 'messages': the conversation must end with a user turn "
        "followed by an assistant turn"
    )


def test_chat_unknown_role_names_the_turn() -> None:
    messages = [{"role": "user", "content": "Hi"}, {"role": "tool", "content": "{}"}]
    with pytest.raises(ValueError, match=r"line 1, field 'messages\[1\]': unsupported role 'tool'"):
        parse_rows({"messages": messages})


def test_ambiguous_layout_lists_fields_and_options() -> None:
    data = jsonl({"question": "q", "answer": "a", "response": "r"})
    with pytest.raises(LayoutError) as caught:
        parse_bytes("mixed.jsonl", data)
    error = caught.value
    message = str(error)
    assert message.startswith("mixed.jsonl: several field layouts fit")
    assert "fields found: answer, question, response" in message
    assert "qa: question -> answer" in message
    assert "prompt_response: question -> response" in message
    assert error.found == ["answer", "question", "response"]
    assert [m.layout for m in error.options] == ["qa", "prompt_response"]


def test_explicit_mapping_resolves_ambiguity() -> None:
    data = jsonl({"question": "q", "answer": "a", "response": "r"})
    chosen = FieldMapping("custom", question="question", response="response", gold="answer")
    parsed = parse_bytes("mixed.jsonl", data, mapping=chosen)
    assert parsed.mapping is chosen
    record = parsed.records[0]
    assert (record.question, record.response, record.gold) == ("q", "r", "a")


def test_option_from_the_error_can_be_passed_back() -> None:
    data = jsonl({"question": "q", "answer": "a", "response": "r"})
    with pytest.raises(LayoutError) as caught:
        parse_bytes("mixed.jsonl", data)
    parsed = parse_bytes("mixed.jsonl", data, mapping=caught.value.options[0])
    assert parsed.records[0].response == "a"


def test_unknown_layout_explains_the_options() -> None:
    with pytest.raises(LayoutError) as caught:
        parse_rows({"chosen": "x", "rejected": "y"}, name="dpo.jsonl")
    message = str(caught.value)
    assert message.startswith("dpo.jsonl: no known field layout (fields found: chosen, rejected)")
    assert "instruction/input/output (Alpaca)" in message
    assert caught.value.options == []


def test_custom_mapping_naming_a_missing_field() -> None:
    mapping = FieldMapping("custom", question="text", response="reply")
    with pytest.raises(ValueError) as caught:
        parse_rows({"text": "q", "answer": "a"}, name="x.jsonl", mapping=mapping)
    assert str(caught.value) == (
        "x.jsonl, field 'reply': the mapping names a field the file does not have "
        "(fields found: answer, text)"
    )


def test_an_mbpp_file_with_text_and_code_needs_no_mapping() -> None:
    """MBPP's own columns: the task in `text`, reference code in `code`, tests in
    `test_list`. Alone, the reference code is the response; beside a response field it is
    the gold. Without a tests field `text` and `code` are not taken for a code task."""
    task = {"task_id": 1, "text": "Write f.", "code": "def f(): return 1"}
    tests = {"test_list": "['assert f() == 1']", "test_setup_code": ""}
    reference = parse_rows({**task, **tests}).mapping
    assert (reference.layout, reference.question, reference.response) == ("mbpp", "text", "code")
    assert (reference.gold, reference.tests, reference.tests_setup) == (
        None,
        "test_list",
        "test_setup_code",
    )
    answered = parse_rows({**task, **tests, "completion": "def f(): return 2"})
    assert (answered.mapping.response, answered.mapping.gold) == ("completion", "code")
    assert answered.records[0].gold == "def f(): return 1"
    with pytest.raises(LayoutError):
        parse_rows(task)
