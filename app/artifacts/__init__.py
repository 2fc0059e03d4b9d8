"""Artifacts (adapters, checkpoints) addressed by keys under ARTIFACT_ROOT: ``store``."""

from app.artifacts.keys import ArtifactError, ArtifactMissing, check_key, join_key, run_key
from app.artifacts.store import ArtifactStore, artifact_store

__all__ = [
    "ArtifactError",
    "ArtifactMissing",
    "ArtifactStore",
    "artifact_store",
    "check_key",
    "join_key",
    "run_key",
]
