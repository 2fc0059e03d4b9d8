"""Metrics: the registry of what each metric is (``registry``), importable without torch."""
