"""Who a request acts as: set by the access guard on every request, read by the rest."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from app.schemas.accounts import Me, UserRead
from app.security.modes import Mode, auth_mode


@dataclass
class Principal:
    mode: Mode
    user: UserRead | None = None
    via_bearer: bool = False
    grants: list[int] = field(default_factory=list)
    shared_project_id: int | None = None
    shared_study_id: int | None = None

    def me(self) -> Me:
        via = "local" if self.mode == "single" else "anonymous"
        if self.user:
            via = "api_token" if self.via_bearer else "session"
        elif self.shared_project_id is not None or self.shared_study_id is not None:
            via = "share_link"
        can_write = self.mode == "single" or self.user is not None
        return Me(
            mode=self.mode,
            user=self.user,
            via=via,
            can_write=can_write,  # type: ignore[arg-type]
            shared_project_id=self.shared_project_id,
            shared_study_id=self.shared_study_id,
        )


def current_principal(request: Request) -> Principal:
    principal = getattr(request.state, "principal", None)
    return principal if principal is not None else Principal(auth_mode())
