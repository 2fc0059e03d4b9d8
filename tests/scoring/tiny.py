"""Tiny, offline stand-ins for a target model: a char-level tokenizer and a random Llama.

Used by the fast unit tests (no model download, no packaged model). The tokenizer can add a
BOS (Llama-style) or not (SmolLM2-style) and has a ChatML chat template unless told not to.
"""

from __future__ import annotations

from pathlib import Path

import torch
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors
from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

TEST_MODELS = Path(__file__).resolve().parents[2] / ".familiar" / "test-models"  # gitignored
PACKAGED = "packaged:SmolLM2-135M-Instruct"
SPECIALS = ["<unk>", "<s>", "</s>", "<|im_start|>", "<|im_end|>"]
CHARS = [chr(i) for i in range(32, 127)] + ["\n"]
CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def tiny_tokenizer(*, adds_bos: bool = False, chat_template: bool = True):
    """A character-level fast tokenizer (vocab: 5 specials + 96 characters)."""
    vocab = {t: i for i, t in enumerate(SPECIALS + CHARS)}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"[\s\S]"), behavior="isolated")
    tok.decoder = decoders.Fuse()
    tok.add_special_tokens(SPECIALS)
    if adds_bos:
        tok.post_processor = processors.TemplateProcessing(
            single="<s> $A", special_tokens=[("<s>", 1)]
        )
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token="<s>",
        eos_token="</s>",
        unk_token="<unk>",
        pad_token="</s>",
    )
    if chat_template:
        fast.chat_template = CHATML
    return fast


def tiny_llama(
    *,
    vocab: int = len(SPECIALS) + len(CHARS),
    max_positions: int = 256,
    seed: int = 0,
    init: float = 0.3,
):
    """A randomly initialised 2-layer Llama (hidden 32, GQA 4/2 heads), eval mode, frozen."""
    config = LlamaConfig(
        vocab_size=vocab,
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        initializer_range=init,
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=2,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config).eval().requires_grad_(False)
    return model
