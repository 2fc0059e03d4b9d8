"""Raise the kernel walls, then become the sandboxed interpreter (run as a script).

``python -I -S launcher.py CONFIG PROGRAM ARGS...``: a fresh single-threaded process, so the
worker never needs ``preexec_fn`` (unsafe in a threaded worker). CONFIG is JSON:
{"netns": bool, "uid": int | null, "cpu_s", "memory_mb", "file_mb", "processes"}. It
unshares the network (fail closed: exit 125), drops to ``uid``, sets the resource limits and
``exec``s PROGRAM. With ``--probe`` it only reports whether the network namespace works.
"""

import ctypes
import json
import os
import resource
import sys

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
MB = 1024 * 1024


def unshare_network() -> bool:
    flags = CLONE_NEWNET if os.geteuid() == 0 else CLONE_NEWUSER | CLONE_NEWNET
    return ctypes.CDLL(None, use_errno=True).unshare(flags) == 0


def limit(kind: int, value: int) -> None:
    resource.setrlimit(kind, (value, value))


def main(argv: list[str]) -> None:
    if argv[1:] == ["--probe"]:
        sys.exit(0 if unshare_network() else 1)
    cfg = json.loads(argv[1])
    if cfg["netns"] and not unshare_network():
        sys.stderr.write("sandbox: could not create a network namespace; not running\n")
        sys.exit(125)
    if cfg["uid"] is not None:
        os.setgroups([])
        os.setgid(cfg["uid"])
        os.setuid(cfg["uid"])
    resource.setrlimit(resource.RLIMIT_CPU, (cfg["cpu_s"], cfg["cpu_s"] + 1))
    limit(resource.RLIMIT_AS, cfg["memory_mb"] * MB)
    limit(resource.RLIMIT_FSIZE, cfg["file_mb"] * MB)
    limit(resource.RLIMIT_NPROC, cfg["processes"])
    limit(resource.RLIMIT_CORE, 0)
    os.execv(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv)
