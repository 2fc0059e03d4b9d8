"""The scoring tests' fixtures: one torch thread, the packaged target loaded once."""

from tests.scoring.conftest import _one_torch_thread, packaged_target

__all__ = ["_one_torch_thread", "packaged_target"]
