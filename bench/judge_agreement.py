"""How often Familiar's judge agrees with each file's own verdicts.

Every strategy file of the shared GSM8K data (``../shared/data/sppl-gsm8k``, read in place)
carries a ``correct`` field per response: the research's own verdict on whether the final
answer matches ``gold_label``. Each response is judged again by Familiar's rule judge
(``workers.judging.judge_answer``, the per-question judge the analyze job uses) and the
two are compared. Then the same on the planning test file (``tests/app/planning_task.py``:
plans checked by a domain validator Familiar does not have), where the judge says "not
judged" instead of a verdict. No model, no database.

Printed per file: responses, responses with the file's verdict, how many the judge judged
(and how many it left "not judged"), agreement (% and count) over the responses both
judged, the disagreements split (file right / judge wrong and the reverse), and the share
correct by each; for answers not judged, what a text match (the judge before "not judged")
would have said. Last line: one JSON object.

    PYTHONPATH=. .venv/bin/python bench/judge_agreement.py [--limit N] [--examples 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.app.planning_task import STRATEGIES as PLAN_STRATEGIES  # noqa: E402
from tests.app.planning_task import rows as plan_rows  # noqa: E402
from tests.paths import GSM8K_DIR  # noqa: E402
from workers.judging import judge_answer  # noqa: E402
from workers.judging.rules import judge_text  # noqa: E402

NOT_STRATEGIES = ("test.json", "test_filtered.json")  # held-out questions, no responses


def gsm8k_files() -> list[Path]:
    return sorted(p for p in GSM8K_DIR.glob("*.json") if p.name not in NOT_STRATEGIES)


def _verdict(value: object) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    return {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}.get(word)


def compare(name: str, records: Iterable[dict], *, examples: int = 0) -> dict:
    """The judge's verdicts against the file's, for one strategy's records."""
    n = carried = judged = unjudged = both = agree = file_only = judge_only = 0
    file_ok = judge_ok = text_n = text_ok = text_agree = 0
    shown: list[str] = []
    for r in records:
        n += 1
        mine = _verdict(r.get("correct"))
        gold = r.get("gold_label")
        j = judge_answer(r.get("question") or "", r.get("answer") or "", gold)
        carried += mine is not None
        judged += j.verdict is not None
        unjudged += j.rule == "not judged"
        if j.rule == "not judged" and gold:  # what a text match (the judge before) says
            said = judge_text(r.get("question") or "", r.get("answer") or "", str(gold)).verdict
            text_n += 1
            text_ok += bool(said)
            text_agree += mine is not None and said == mine
        if mine is None or j.verdict is None:
            continue
        both += 1
        file_ok += mine
        judge_ok += j.verdict
        if mine == j.verdict:
            agree += 1
            continue
        file_only += mine and not j.verdict
        judge_only += j.verdict and not mine
        if len(shown) < examples:
            shown.append(f"    file {mine}, judge {j.verdict}: {j.reason[:110]}")
    return {
        "file": name,
        "responses": n,
        "file_verdicts": carried,
        "judged": judged,
        "not_judged": unjudged,
        "compared": both,
        "agree": agree,
        "agreement": agree / both if both else None,
        "file_right_judge_wrong": file_only,
        "judge_right_file_wrong": judge_only,
        "file_share_correct": file_ok / both if both else None,
        "judge_share_correct": judge_ok / both if both else None,
        "text_match_share_correct": text_ok / text_n if text_n else None,
        "text_match_agreement": text_agree / text_n if text_n else None,
        "examples": shown,
    }


def _pct(x: float | None) -> str:
    return "   –  " if x is None else f"{100 * x:5.1f}%"


def show(row: dict) -> None:
    print(
        f"{row['file']:<58} {row['responses']:>5} {row['file_verdicts']:>5} "
        f"{row['judged']:>5} {row['not_judged']:>5}  {_pct(row['agreement'])} "
        f"({row['agree']}/{row['compared']})  {row['file_right_judge_wrong']:>3} "
        f"{row['judge_right_file_wrong']:>3}  {_pct(row['file_share_correct'])} "
        f"{_pct(row['judge_share_correct'])}"
    )
    if row["text_match_share_correct"] is not None:
        print(
            f"    not judged; a text match (the judge before) would say "
            f"{_pct(row['text_match_share_correct']).strip()} correct, agreeing with the file "
            f"on {_pct(row['text_match_agreement']).strip()}"
        )
    for line in row["examples"]:
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--limit", type=int, default=0, help="records per file (0: all)")
    ap.add_argument("--examples", type=int, default=2, help="disagreements shown per file")
    args = ap.parse_args()
    started = time.perf_counter()
    print(
        f"{'file':<58} {'resp':>5} {'file':>5} {'judg':>5} {'notj':>5}  agreement (count)"
        "     F>J J>F  file%  judge%"
    )
    out = []
    for path in gsm8k_files():
        records = json.loads(path.read_text())
        records = records[: args.limit] if args.limit else records
        out.append(compare(f"gsm8k/{path.name}", records, examples=args.examples))
        show(out[-1])
    for name in PLAN_STRATEGIES:
        out.append(compare(f"planning/{name}", plan_rows(name), examples=args.examples))
        show(out[-1])
    gsm = [r for r in out if r["file"].startswith("gsm8k/")]
    total_agree, total_both = sum(r["agree"] for r in gsm), sum(r["compared"] for r in gsm)
    print(
        f"GSM8K, all files: {total_agree}/{total_both} agree "
        f"({100 * total_agree / max(total_both, 1):.2f}%); planning: "
        f"{sum(r['not_judged'] for r in out if r['file'].startswith('planning/'))} not judged; "
        f"{time.perf_counter() - started:.1f} s"
    )
    summary = [{k: v for k, v in r.items() if k != "examples"} for r in out]
    print(json.dumps({"gsm8k_agree": total_agree, "gsm8k_compared": total_both, "rows": summary}))


if __name__ == "__main__":
    main()
