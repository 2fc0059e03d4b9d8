"""Recipe presets after the research (DESIGN.md, "Strategy lab"), each naming its source.

The prompt wording is ours; what each preset asks for follows the strategy its source
describes. ``teacher`` None means the target itself answers; a user installs a preset with
another teacher by naming it.
"""

from __future__ import annotations

from app.schemas.lab import RecipeContent

REN_2024 = (
    'Ren et al., EMNLP 2024, "I Learn Better If You Speak My Language: Understanding the '
    'Superior Performance of Fine-Tuning Large Language Models with LLM-Generated Responses"'
)
SPPL_2025 = (
    'Ren, Chen, Liu, EMNLP Findings 2025, "Efficiently Selecting Response Generation Strategy '
    'by Self-Aligned Perplexity" (the GSM8K response strategies)'
)
SILLY_2024 = (
    'arXiv 2411.14121, the "silly questions" paper: answers rewritten by rules rather than '
    "regenerated (here three rules applied to the ground truth, no teacher call)"
)
FINISH = 'End with a last line of the form "Final Answer: <answer>".'

PRESETS: dict[str, RecipeContent] = {
    "direct": RecipeContent(
        user_template="{{ question }}",
        source=f"{REN_2024}; {SPPL_2025}: the teacher's own answer to the bare question",
    ),
    "step_by_step": RecipeContent(
        system_template="You are a careful tutor.",
        user_template=(
            "Work through this problem one step at a time, writing each step on its own "
            f"line before giving the result.\n{FINISH}\n\nProblem: {{{{ question }}}}"
        ),
        source=f"{SPPL_2025}: step-by-step answers",
    ),
    "rewrite_gold": RecipeContent(
        user_template=(
            "Below is a question and a correct reference solution. Explain the solution again "
            "in your own words, keeping every step correct and reaching the same result. "
            f"{FINISH}\n\nQuestion: {{{{ question }}}}\n\nReference solution: {{{{ gold }}}}"
        ),
        source=f"{REN_2024}: the ground truth restated by the teacher in its own words",
    ),
    "style_teacher_examples": RecipeContent(
        user_template=(
            "Here are answers you wrote to other questions. Solve the new question in the same "
            "manner: same tone, same level of detail, same layout.\n\n"
            "{% for e in examples %}Example answer {{ loop.index }}:\n{{ e }}\n\n{% endfor %}"
            "New question: {{ question }}"
        ),
        source=f"{SPPL_2025}: answers in the style of the teacher's own example answers "
        "(fill `examples` with earlier answers of this teacher)",
    ),
    "style_human_examples": RecipeContent(
        user_template=(
            "Here are answers a person wrote to other questions. Solve the new question the "
            "way that person would: imitate the wording, the length and the layout.\n\n"
            "{% for e in examples %}Example answer {{ loop.index }}:\n{{ e }}\n\n{% endfor %}"
            "New question: {{ question }}"
        ),
        source=f"{SPPL_2025}: answers in the style of human-written examples "
        "(fill `examples` with ground-truth answers of other questions)",
    ),
    "simple_response": RecipeContent(
        user_template=(
            "Answer the question below plainly and briefly, the way you would explain it to a "
            f"friend, without headings or lists. {FINISH}\n\nQuestion: {{{{ question }}}}"
        ),
        source=f"{SPPL_2025}: a simple, natural response",
    ),
    "minimum_change": RecipeContent(
        user_template=(
            "A student answered the question below. Correct the student's answer while "
            "changing as little as possible: keep every sentence that is right exactly as it "
            "is, fix only what is wrong, and make sure it reaches the correct result. Reply "
            "with the corrected answer only.\n\nQuestion: {{ question }}\n\n"
            "Correct result: {{ gold | final_answer }}\n\nStudent's answer: {{ own_answer }}"
        ),
        strip_prefix="Corrected answer:",
        source=f"{REN_2024}: minimum-change data (the target's own answer, corrected with as "
        "few edits as possible)",
    ),
    "rule_answer_first": RecipeContent(
        kind="rule",
        user_template=(
            "The answer is {{ gold | final_answer }}.\n\nHere is why: {{ gold | reasoning }}"
            "\n\nFinal Answer: {{ gold | final_answer }}"
        ),
        source=f"{SILLY_2024}: rules 'answer first', 'then the reasoning', 'close with the "
        "final answer line'",
    ),
}


def preset(name: str, *, teacher: str | None = None) -> RecipeContent:
    """The preset ``name`` (a typo gets "did you mean"), aimed at ``teacher``."""
    if name not in PRESETS:
        import difflib

        close = difflib.get_close_matches(name, list(PRESETS), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else f"; choose {', '.join(PRESETS)}"
        raise KeyError(f"unknown preset '{name}'{hint}")
    content = PRESETS[name]
    changes: dict[str, object] = {"preset": name}
    if content.kind == "teacher":
        changes["teacher"] = teacher
    return content.model_copy(update=changes)
