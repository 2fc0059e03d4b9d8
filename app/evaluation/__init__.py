"""Answer extraction and checking for evaluation (torch-free: the web app re-scores with it).

``app.evaluation.extractors`` is the entry point: named extractors that read a model
output's final answer and compare it with a gold answer. ``numbers``, ``markers`` and
``options`` are the shared text helpers (also used by ``workers.judging``).
"""
