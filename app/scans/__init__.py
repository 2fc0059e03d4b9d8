"""Scan results: the core's output format, the typed report, storing and reading them."""
