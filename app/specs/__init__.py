"""Typed run specs: one per run kind, shared by the web form, the JSON API, the CLI and the
worker, and stored verbatim with the job that runs it."""
