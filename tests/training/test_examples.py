"""Labels of a training example, end-of-turn detection, LoRA target and settings checks."""

from __future__ import annotations

import pytest

from app.specs.training import TrainingSettingsError, TrainSettings
from tests.scoring.tiny import tiny_tokenizer
from workers.scoring.prompts import chat_prompt_text, encode
from workers.training import (
    TrainingInputError,
    build_example,
    check_lora_targets,
    encode_example,
    end_of_turn_id,
)


def test_prompt_carries_no_loss_and_the_end_of_turn_token_does(tok):
    ids, labels = build_example(tok, "2+2?", "4", max_length=200)
    prompt = encode(tok, chat_prompt_text(tok, "2+2?"))
    im_end = tok.convert_tokens_to_ids("<|im_end|>")
    assert ids[: len(prompt)] == list(prompt)
    assert labels[: len(prompt)] == [-100] * len(prompt)
    assert labels[len(prompt) :] == list(encode(tok, "4")) + [im_end]
    assert ids[-1] == im_end and labels[-1] == im_end


def test_end_of_turn_is_read_from_the_template_not_the_eos(tok):
    assert tok.eos_token == "</s>"  # the tiny tokenizer's EOS is not its end of turn
    assert end_of_turn_id(tok) == tok.convert_tokens_to_ids("<|im_end|>")


def test_without_a_special_end_of_turn_the_eos_is_used():
    tok = tiny_tokenizer()
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}\n{% endfor %}"
    assert end_of_turn_id(tok) == tok.eos_token_id


def test_a_cut_response_does_not_learn_to_stop(tok):
    full = encode_example(tok, "q", "a long answer here", max_length=200)
    cut = encode_example(tok, "q", "a long answer here", max_length=full.length - 3)
    assert cut.truncated and not full.truncated
    assert cut.length == full.length - 3
    assert end_of_turn_id(tok) not in cut.labels


def test_a_prompt_longer_than_max_length_is_refused(tok):
    with pytest.raises(TrainingInputError, match="max_length"):
        encode_example(tok, "x" * 50, "a", max_length=20)


def test_missing_target_modules_error_lists_the_modules_the_model_has(model):
    check_lora_targets(model, ("q_proj", "v_proj"))
    with pytest.raises(TrainingInputError) as err:
        check_lora_targets(model, ("q_proj", "query_key_value"))
    text = str(err.value)
    assert "'query_key_value'" in text
    for name in ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"):
        assert name in text


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("learning_rate", 0),
        ("learning_rate", 0.5),
        ("lora_r", 0),
        ("lora_r", 512),
        ("lora_dropout", 0.9),
        ("epochs", 0),
        ("batch_size", 0),
        ("precision", "fp8"),
        ("select_by", "f1"),
        ("target_modules", []),
    ],
)
def test_out_of_range_settings_are_refused_naming_the_field(field, value):
    with pytest.raises(TrainingSettingsError, match=rf"^{field}:"):
        TrainSettings(**{field: value})


def test_research_defaults():
    s = TrainSettings()
    assert (s.lora_r, s.lora_alpha, s.target_modules, s.learning_rate) == (
        8,
        16,
        ("q_proj", "v_proj"),
        2e-5,
    )
    assert s.effective_batch == 8
