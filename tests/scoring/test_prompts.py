"""Prompt texts, template modes, BOS handling and the exact prompt/response boundary."""

from __future__ import annotations

import pytest

from tests.scoring.tiny import tiny_tokenizer
from workers.scoring.prompts import (
    PromptBuilder,
    PromptError,
    inst_prompt_text,
    sppl_prompt_text,
    tokenizer_adds_bos,
)

REFERENCE_3 = (
    "Question: Q?\n\n"
    "We have inference examples below to show you how to solve the problem. please follow "
    "the inference style and solve the problem\n\n"
    "inference example: A1\n\n"
    "inference example: A2\n\n"
    "inference example: A3\n\n"
    "now, according to the inference examples, please solve the problem. \n\n\n"
)


def test_sppl_text_is_the_reference_text() -> None:
    assert sppl_prompt_text("Q?", ["A1", "A2", "A3"]) == REFERENCE_3


def test_sppl_text_with_one_example() -> None:
    text = sppl_prompt_text("Q?", ["A1"])
    assert text.count("inference example: ") == 1
    assert text.endswith(
        "inference example: A1\n\nnow, according to the inference examples, "
        "please solve the problem. \n\n\n"
    )


def test_inst_wrapping_is_the_reference_llama2_format() -> None:
    assert inst_prompt_text("hi") == (
        "[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nhi [/INST]"
    )


def test_chat_prompt_puts_text_in_user_turn_with_generation_prompt(tiny_tok) -> None:
    builder = PromptBuilder(tiny_tok, "chat")
    assert builder.ppl_prompt("2+2?") == "<|im_start|>user\n2+2?<|im_end|>\n<|im_start|>assistant\n"
    sppl = builder.sppl_prompt("2+2?", ["4"])
    assert sppl.startswith("<|im_start|>user\nQuestion: 2+2?\n\n")
    assert sppl.endswith("solve the problem. \n\n\n<|im_end|>\n<|im_start|>assistant\n")


def test_chat_prompt_ids_have_no_added_bos(bos_tok) -> None:
    builder = PromptBuilder(bos_tok, "chat")
    ids = builder.prompt_ids(builder.ppl_prompt("x"))
    assert ids[0] == bos_tok.convert_tokens_to_ids("<|im_start|>")  # template text only


def test_inst_prompt_gets_bos_and_response_a_leading_space(bos_tok) -> None:
    builder = PromptBuilder(bos_tok, "inst")
    ids = builder.prompt_ids(builder.ppl_prompt("x"))
    assert ids[0] == bos_tok.bos_token_id
    assert bos_tok.decode(builder.response_ids("ok")) == " ok"
    assert bos_tok.decode(builder.alone_response_ids("ok")) == "ok"


def test_response_ids_never_include_special_tokens(bos_tok) -> None:
    builder = PromptBuilder(bos_tok, "chat")
    assert builder.response_ids("ab") == tuple(bos_tok.convert_tokens_to_ids(["a", "b"]))
    assert builder.response_ids("") == ()


def test_response_alone_prefix_is_bos_only_when_the_tokenizer_adds_it(tiny_tok, bos_tok) -> None:
    assert tokenizer_adds_bos(bos_tok) and not tokenizer_adds_bos(tiny_tok)
    assert PromptBuilder(bos_tok).alone_prefix_ids() == (bos_tok.bos_token_id,)
    assert PromptBuilder(bos_tok).alone_prefix_text() == "<s>"
    assert PromptBuilder(tiny_tok).alone_prefix_ids() == ()
    assert PromptBuilder(tiny_tok).alone_prefix_text() == ""


def test_chat_mode_without_template_is_a_clear_error() -> None:
    plain = tiny_tokenizer(chat_template=False)
    with pytest.raises(PromptError, match="no chat template"):
        PromptBuilder(plain, "chat")
    builder = PromptBuilder(plain, "inst")  # the reference wrapping needs no template
    assert builder.generation_prompt("q").startswith("[INST]")


def test_unknown_template_mode(tiny_tok) -> None:
    with pytest.raises(PromptError, match="template mode"):
        PromptBuilder(tiny_tok, "llama")  # type: ignore[arg-type]


@pytest.mark.slow
def test_smollm2_boundary_is_exact(packaged_target) -> None:
    """Separate tokenisation: response ids do not depend on the prompt and never merge."""
    tok = packaged_target.tokenizer
    builder = PromptBuilder(tok, "chat")
    prompt = builder.ppl_prompt("What is 2+2?")
    assert prompt.endswith("<|im_start|>assistant\n")
    ids = builder.prompt_ids(prompt)
    assert list(ids) == tok(prompt, add_special_tokens=False)["input_ids"]
    response = builder.response_ids("The answer is 4.")
    assert tok.decode(list(ids) + list(response)) == prompt + "The answer is 4."
    assert builder.alone_prefix_ids() == ()  # SmolLM2's tokenizer adds no BOS
    assert ids[-1] == tok.convert_tokens_to_ids("\n") or tok.decode(ids[-1:]).endswith("\n")
