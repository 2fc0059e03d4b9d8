"""Which questions a scan scores: those every strategy answered, sampled with a seed."""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from app.specs.scan import ScanInputError


def shared_questions(order: Sequence[str], responses: Mapping[str, Mapping[str, str]]) -> list[str]:
    """Question keys (in ``order``) answered by every strategy; errors when there are none."""
    if not responses:
        raise ScanInputError("responses: no strategy given")
    shared = [k for k in order if all(k in answers for answers in responses.values())]
    if not shared:
        raise ScanInputError(
            f"no question is answered by all {len(responses)} strategies "
            f"({', '.join(sorted(responses))}); check that the files hold the same questions"
        )
    return shared


def sample_questions(shared: Sequence[str], n: int, seed: int) -> list[str]:
    """A seeded sample of ``n`` keys, kept in the stable question order."""
    return sample_sets(shared, n, 1, seed)[0]


def sample_sets(shared: Sequence[str], n: int, k: int, seed: int) -> list[list[str]]:
    """``k`` disjoint seeded samples of ``n`` keys, each in the stable question order; one
    draw of ``n * k`` keys cut in order, so ``k = 1`` is the single sample of the same seed."""
    drawn = random.Random(seed).sample(list(shared), n * k)
    position = {key: i for i, key in enumerate(shared)}
    return [sorted(drawn[i * n : (i + 1) * n], key=position.__getitem__) for i in range(k)]
