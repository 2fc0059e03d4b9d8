"""The bodies of error answers, as the OpenAPI description documents them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorBody(BaseModel):
    """Every error of the API: what is wrong, and for a bad upload where."""

    detail: str = Field(description="What is wrong, readable as it is")
    filename: str | None = Field(default=None, description="The uploaded file at fault")
    line: int | None = Field(default=None, description="Its line (or row)")
    field: str | None = Field(default=None, description="Its field (or column)")
    reason: str | None = Field(default=None, description="Why access was refused (403)")


class ValidationErrorBody(BaseModel):
    """A request whose parameters or body do not fit the operation (FastAPI's own 422)."""

    detail: list[dict[str, Any]]


def _doc(description: str) -> dict[str, Any]:
    return {"model": ErrorBody, "description": description}


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _doc("The request could not be read (e.g. a malformed form body)"),
    401: _doc("Sign-in required (accounts mode)"),
    403: _doc("Not allowed: a share link cannot change anything, or the CSRF check failed"),
    404: _doc("Nothing at this path: no such id, or an id out of range"),
    409: _doc("The request clashes with what is stored (a taken name, a running scan)"),
    413: _doc("The upload is over a size limit"),
    422: {
        "model": ErrorBody | ValidationErrorBody,
        "description": "Bad input: a bad upload (file, line, field), a request the service "
        "cannot carry out, or parameters that do not validate",
    },
}
