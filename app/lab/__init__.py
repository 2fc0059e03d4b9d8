"""The strategy lab (issue 21): teachers, versioned recipes, planning and estimating a sample.

Pure data and services only; the generation engine that calls teachers lives in
``workers.lab`` (the web process never sends a teacher request).
"""
