"""Evaluation of a target (or a tuned adapter) on test questions with gold answers."""
