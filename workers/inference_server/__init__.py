"""Inference servers (vLLM, OpenAI-compatible HTTP): the client the server backend uses."""
