"""Errors the services raise; routes map them to status codes."""


class NotFound(LookupError):
    """The thing asked for does not exist (404)."""


class Conflict(ValueError):
    """The request clashes with what is stored (409), e.g. a strategy name already taken."""


class BadInput(ValueError):
    """The request is well-formed but cannot be carried out (422). ``field``: the form
    field whose value it refuses, when there is one (a form shows the reason next to it)."""

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TooLarge(ValueError):
    """The request or upload is over a size limit (413)."""
