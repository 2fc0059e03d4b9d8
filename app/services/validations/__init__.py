"""Validation: test sets, fine-tuning runs, evaluations and their results (issue 12)."""
