"""The audit hook the sandboxed interpreter installs before it runs any untrusted code.

This file is read as text and runs at the top of the sandbox's main script (``python -I``),
so it imports nothing from the project. An audit hook cannot be removed once added; it
refuses sockets, new processes, native code (ctypes) and any write, delete or rename
outside the sandbox's own folder. It is the second wall: the kernel ones are a network
namespace, another user id and resource limits (``workers.judging.sandbox``).
"""

import os as _os
import sys as _sys


def _familiar_guard():
    home = _os.path.realpath(_os.getcwd())
    refused = (
        "socket.",
        "subprocess.",
        "os.exec",
        "os.fork",
        "os.forkpty",
        "os.posix_spawn",
        "os.spawn",
        "os.system",
        "os.kill",
        "os.killpg",
        "ctypes.",
        "pty.",
        "resource.setrlimit",
        "sys.addaudithook",
        "winreg.",
    )
    path_events = {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.link",
        "os.symlink",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
    }

    def inside(path):
        if isinstance(path, int):
            return True
        if isinstance(path, bytes):
            path = _os.fsdecode(path)
        full = _os.path.realpath(_os.path.join(home, str(path)))
        return full == home or full.startswith(home + _os.sep)

    def hook(event, args):
        if event.startswith(refused):
            raise PermissionError(f"sandbox: {event} is not allowed")
        if event == "open" and args and args[0] is not None:
            mode = args[1] if len(args) > 1 and isinstance(args[1], str) else "r"
            flags = args[2] if len(args) > 2 and isinstance(args[2], int) else 0
            writes = any(c in mode for c in "wax+") or flags & (_os.O_WRONLY | _os.O_RDWR)
            if writes and not inside(args[0]):
                raise PermissionError(f"sandbox: writing {args[0]!r} outside its folder")
        elif event in path_events:
            for path in args[:2]:
                if isinstance(path, str | bytes) and not inside(path):
                    raise PermissionError(f"sandbox: {event} on {path!r} outside its folder")

    _sys.addaudithook(hook)


_familiar_guard()
del _familiar_guard
