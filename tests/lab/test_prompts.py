"""Recipe prompts: sandboxed rendering, strict variables, post-processing, every preset."""

from __future__ import annotations

import pytest

from app.lab.presets import PRESETS
from app.lab.prompts import PromptInput, TemplateProblem, messages, postprocess, render

GSM = PromptInput(
    question="Tom has 3 apples and buys 4 more. How many apples?",
    gold="3 + 4 = 7\n#### 7",
    own_answer="Tom has 3 + 4 = 8 apples.",
    examples=["2 + 2 = 4. Final Answer: 4", "5 - 1 = 4. Final Answer: 4"],
)


def test_variables_render_and_unknown_ones_fail() -> None:
    assert render("Q: {{ question }} / {{ gold | final_answer }}", GSM) == (
        "Q: Tom has 3 apples and buys 4 more. How many apples? / 7"
    )
    with pytest.raises(TemplateProblem, match="answer"):
        render("{{ answer }}", GSM)


def test_the_sandbox_refuses_python_internals() -> None:
    with pytest.raises(TemplateProblem):
        render("{{ question.__class__.__mro__[1].__subclasses__() }}", GSM)


def test_postprocess_strips_the_prefix_and_keeps_up_to_the_marker() -> None:
    text = "  Answer: 7 apples.\n###\nextra chatter"
    assert postprocess(text, strip_prefix="Answer:", stop_marker="###") == "7 apples."
    assert postprocess("7", strip_prefix="Answer:", stop_marker="###") == "7"


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_renders_a_gsm8k_question(name: str) -> None:
    recipe = PRESETS[name]
    msgs = messages(recipe.system_template, recipe.user_template, GSM)
    user = msgs[-1]["content"]
    assert GSM.question in user or recipe.kind == "rule"
    if "gold" in recipe.user_template:
        assert "7" in user
    if "own_answer" in recipe.user_template:
        assert GSM.own_answer in user
    if "examples" in recipe.user_template:
        assert all(e in user for e in GSM.examples)
    assert "{{" not in user and "{%" not in user


def test_the_rule_preset_rewrites_the_gold_without_a_teacher() -> None:
    out = render(PRESETS["rule_answer_first"].user_template, GSM)
    assert out == "The answer is 7.\n\nHere is why: 3 + 4 = 7\n\nFinal Answer: 7"
