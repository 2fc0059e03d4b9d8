"""Errors the services raise; routes map them to status codes."""


class NotFound(LookupError):
    """The thing asked for does not exist (404)."""


class Conflict(ValueError):
    """The request clashes with what is stored (409), e.g. a strategy name already taken."""


class BadInput(ValueError):
    """The request is well-formed but cannot be carried out (422)."""


class TooLarge(ValueError):
    """The request or upload is over a size limit (413)."""
