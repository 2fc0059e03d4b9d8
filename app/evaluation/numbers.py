"""Numbers as people write them: "1,000", "$18", "50%", "21.0", "3/4", LaTeX ``\\frac{3}{4}``.

Hand-written on purpose: sympy's LaTeX parser needs antlr4 and parses far more than a
final numeric answer needs; these few rewrites cover what gold answers of math tasks use.
"""

from __future__ import annotations

import math
import re

FRAC = re.compile(r"\\[dt]?frac\s*\{\s*(-?[\d.,]+)\s*\}\s*\{\s*(-?[\d.,]+)\s*\}")
LATEX_DROP = re.compile(
    r"\\text\s*\{[^}]*\}|\\mathrm\s*\{[^}]*\}|\\(?:left|right|displaystyle|[,!;: ])|"
    r"\^\s*\{?\\circ\}?|\\%|\\\$|\$"
)
NUMBER = re.compile(r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s*/\s*\d+)?|-?\.\d+")


def delatex(text: str) -> str:
    """LaTeX wrappers of a number removed: ``\\frac{a}{b}`` -> ``a/b``, units, ``$``, ``%``."""
    text = FRAC.sub(lambda m: f"{m.group(1)}/{m.group(2)}", text or "")
    text = LATEX_DROP.sub(" ", text).replace("{,}", ",")
    return text.replace("{", " ").replace("}", " ")


def to_float(token: str) -> float | None:
    token = token.replace(",", "").replace(" ", "")
    try:
        if "/" in token:
            num, den = token.split("/")
            return float(num) / float(den) if float(den) else None
        return float(token)
    except ValueError:
        return None


def numbers_in(text: str) -> list[str]:
    return NUMBER.findall(delatex(text))


def last_number(text: str) -> float | None:
    found = numbers_in(text)
    return to_float(found[-1]) if found else None


def as_number(text: str) -> float | None:
    """The value when ``text`` is just a number (with units, currency, LaTeX), else None."""
    cleaned = re.sub(r"[\s$€£%.]+$", "", delatex(text).strip())
    cleaned = re.sub(r"^[\s$€£]+", "", cleaned)
    if not cleaned or NUMBER.fullmatch(cleaned) is None:
        return None
    return to_float(cleaned)


def same_number(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def show(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)
