"""The math-verify check, run in its own process by ``app.evaluation.math_equiv``.

Protocol: one JSON line per request on stdin, ``[extracted, gold]``; one JSON line per reply
on stdout, ``{"ok": true|false}``. The first line written is ``{"ready": true}`` (or
``{"error": "..."}`` when math-verify cannot be imported). math-verify's own timeouts are
off (``None``): they use ``signal.alarm``, which fails off the main thread; the parent
bounds the time by killing this process instead.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import Any

LATEX_HINT = ("\\", "^", "{", "_")
WORD = re.compile(r"[a-zA-Z]{2,}")


def _source(text: str) -> str:
    """What math-verify parses: the text as it is when it is delimited (``$``, ``\\(``) or
    holds words ("18 dollars"), else wrapped in ``$...$`` (``(1, 2)``, ``x = 3``, LaTeX)."""
    text = text.strip()
    if "$" in text or "\\(" in text or "\\[" in text:
        return text
    if not any(h in text for h in LATEX_HINT) and WORD.search(text):
        return text
    return f"${text}$"


def equivalent(extracted: str, gold: str) -> bool:
    from math_verify import parse, verify

    got = parse(_source(extracted), parsing_timeout=None)  # type: ignore[arg-type]
    want = parse(_source(gold), parsing_timeout=None)  # type: ignore[arg-type]
    if not got or not want:
        return False
    return bool(verify(want, got, timeout_seconds=None))


def _reply(payload: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


def main() -> None:
    logging.disable(logging.WARNING)  # math-verify warns once that its timeout is off
    try:
        import math_verify  # noqa: F401
    except ImportError as exc:
        _reply({"error": f"math-verify is not installed ({exc})"})
        return
    _reply({"ready": True})
    for line in sys.stdin:
        try:
            extracted, gold = json.loads(line)
            _reply({"ok": equivalent(str(extracted), str(gold))})
        except Exception as exc:  # a parse failure is a "not equivalent", never a crash
            _reply({"ok": False, "error": type(exc).__name__})


if __name__ == "__main__":
    main()
