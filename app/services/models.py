"""Cheap checks of a target model reference, done in the web process (no torch): a
reference that cannot load is refused when the scan is created, not after it queued."""

from __future__ import annotations

import os
import re
import socket
import threading
from pathlib import Path

from app.config import DEFAULT_MODEL
from app.services.errors import BadInput

PACKAGED_PREFIX = "packaged:"
PACKAGED = {DEFAULT_MODEL}
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+(@[\w.\-/]+)?$")


def check_model_ref(name: str) -> None:
    """Refuse references that cannot load here: an unknown packaged model, a folder without
    config.json, a name that is neither, or a Hugging Face id that is not in the local cache
    while the hub cannot be reached."""
    name = name.strip()
    if not name:
        raise BadInput("the target model is empty")
    if name.startswith(PACKAGED_PREFIX):
        if name not in PACKAGED:
            raise BadInput(f"unknown packaged model '{name}'; packaged: {', '.join(PACKAGED)}")
        return
    folder = Path(name).expanduser()
    if name.startswith(("/", ".", "~")) or _exists(folder):
        if not _exists(folder / "config.json", file=True):
            raise BadInput(f"model folder '{name}' does not exist or has no config.json")
        return
    if not HUB_ID.match(name):
        raise BadInput(
            f"cannot load model '{name}': not a packaged model ({', '.join(PACKAGED)}), not "
            "an existing folder, not a Hugging Face id (org/name[@revision])"
        )
    repo = name.partition("@")[0]
    if not hub_cached(repo) and not network_available():
        raise BadInput(
            f"model '{repo}' is not in the local Hugging Face cache and the hub cannot be "
            "reached: download it where there is network, or give a local folder"
        )


def _exists(path: Path, *, file: bool = False) -> bool:
    """Whether the path exists; a name the OS cannot take (too long, a NUL) does not."""
    try:
        return path.is_file() if file else path.exists()
    except (OSError, ValueError):
        return False


def hub_cache_dir() -> Path:
    """Where huggingface_hub keeps snapshots (HF_HUB_CACHE, HF_HOME/hub, ~/.cache/...)."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    home = os.environ.get("HF_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", "~/.cache"), "huggingface"
    )
    return Path(home).expanduser() / "hub"


def hub_cached(repo: str) -> bool:
    """A snapshot of ``repo`` with a config.json is in the local hub cache."""
    folder = hub_cache_dir() / f"models--{repo.replace('/', '--')}" / "snapshots"
    return folder.is_dir() and any(folder.glob("*/config.json"))


def network_available(host: str = "huggingface.co", timeout: float = 2.0) -> bool:
    """True when the hub answers a TCP connect within ``timeout`` (DNS included)."""
    if os.environ.get("HF_HUB_OFFLINE", "") not in ("", "0") or os.environ.get(
        "TRANSFORMERS_OFFLINE", ""
    ) not in ("", "0"):
        return False
    result: list[bool] = []

    def probe() -> None:
        try:
            socket.create_connection((host, 443), timeout=timeout).close()
            result.append(True)
        except OSError:
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout + 0.5)
    return bool(result and result[0])
