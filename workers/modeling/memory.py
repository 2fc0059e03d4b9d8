"""Model work keeps the memory it frees for its next step instead of unmapping it.

Why (measured on the 2-core CPU, SmolLM2-135M LoRA training in bfloat16, batches of 8):
glibc's malloc serves every block above its mmap threshold (at most 32 MiB) with a fresh
``mmap`` and gives it back with ``munmap`` when freed. A training step allocates and frees
gigabytes of such blocks (activations kept for the backward pass, the LM head's float32
logits), so every step touched all of it anew: 0.5 to 3 million page faults per step, a
quarter to a third of the step's time (a batch of 8 x 441 tokens: 1.5 M faults, 620
tokens/s; with freed memory kept: 0 faults, 830 tokens/s). Raising the threshold to its
32 MiB ceiling did not help (the big blocks are bigger); only serving every block from the
heap and never trimming it did. This is what PyTorch's CPU tuning guide gets by preloading
jemalloc or TCMalloc; ``mallopt`` does it inside the running process with no extra library
and no ``LD_PRELOAD`` that every way of starting a worker would have to set.

Scope: ``reusing_freed_memory()`` around one job (``workers.tasks.execute``), one headless
scan, or a benchmark's model work. On leaving, the settings go back to glibc's defaults and
``malloc_trim(0)`` returns the free pages to the system, so an idle worker does not sit on
the peak of its last job. Nested uses keep the outer scope's settings. Elsewhere than glibc
(macOS, musl) it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import platform
import threading
from collections.abc import Iterator
from contextlib import contextmanager

# mallopt parameters (glibc malloc.h) and glibc's defaults for them.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_MMAP_MAX = -1, -3, -4
DEFAULT_TRIM_THRESHOLD, DEFAULT_MMAP_THRESHOLD, DEFAULT_MMAP_MAX = 128 * 1024, 128 * 1024, 65536
NEVER_TRIM = -1  # mallopt(3): "setting M_TRIM_THRESHOLD to -1 disables trimming completely"

_lock = threading.Lock()
_depth = 0


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def supported() -> bool:
    """True where the C library is glibc (the settings take effect)."""
    return _libc() is not None


def _keep(libc: ctypes.CDLL) -> None:
    libc.mallopt(M_MMAP_MAX, 0)  # every block from the heap: freed blocks are reused
    libc.mallopt(M_TRIM_THRESHOLD, NEVER_TRIM)  # and the heap's free top is not given back


def _release(libc: ctypes.CDLL) -> None:
    libc.mallopt(M_MMAP_MAX, DEFAULT_MMAP_MAX)
    libc.mallopt(M_MMAP_THRESHOLD, DEFAULT_MMAP_THRESHOLD)
    libc.mallopt(M_TRIM_THRESHOLD, DEFAULT_TRIM_THRESHOLD)
    libc.malloc_trim(0)  # free pages inside the heap go back to the system too


@contextmanager
def reusing_freed_memory() -> Iterator[None]:
    """Within: freed memory is kept for reuse. After the outermost: returned to the system."""
    global _depth
    libc = _libc()
    if libc is None:
        yield
        return
    with _lock:
        _depth += 1
        if _depth == 1:
            _keep(libc)
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                _release(libc)
