"""Freed memory is reused inside model work and returned to the system after it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from workers.modeling import memory

pytestmark = pytest.mark.skipif(not memory.supported(), reason="glibc malloc only")

CHILD = """
import json, resource, torch
from workers.modeling.memory import reusing_freed_memory

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20

def churn():  # what a training step does: big blocks allocated, filled, freed, again
    before = faults()
    for _ in range(8):
        torch.empty(16 * 2**20).fill_(1.0)  # 64 MiB
    return faults() - before

out = {"plain": churn()}
with reusing_freed_memory():
    churn()  # the first pass touches the pages once
    out["kept"] = churn()
    big = torch.empty(64 * 2**20).fill_(1.0)  # 256 MiB
    del big
    out["rss_inside"] = rss_mb()
out["rss_after"] = rss_mb()
print(json.dumps(out))
"""


def test_freed_blocks_are_reused_within_and_returned_after() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHILD], capture_output=True, text=True, check=True, timeout=120
    )
    out = json.loads(done.stdout.strip().splitlines()[-1])
    # Plain glibc maps and unmaps each 64 MiB block: 8 x 16384 pages faulted in again.
    assert out["plain"] > 8 * 10_000, out
    # Kept: the same blocks reused (0 faults, or one block's when the heap grew once more).
    assert out["kept"] <= 2 * 16384, out
    # The freed 256 MiB stayed with the process inside, and went back on leaving.
    assert out["rss_inside"] - out["rss_after"] > 200, out


def test_nested_scopes_keep_the_outer_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    monkeypatch.setattr(memory, "_keep", lambda libc: calls.append("keep"))
    monkeypatch.setattr(memory, "_release", lambda libc: calls.append("release"))
    with memory.reusing_freed_memory():
        with memory.reusing_freed_memory():
            pass
        assert calls == ["keep"]
    assert calls == ["keep", "release"]
