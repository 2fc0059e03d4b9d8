"""Accounts, API tokens and share links: what the API accepts and returns."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.ids import RowId

LinkStatus = Literal["active", "revoked", "expired"]


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    is_admin: bool


class Me(BaseModel):
    """Who the request acts as."""

    mode: Literal["single", "accounts"]
    user: UserRead | None = None
    via: Literal["local", "session", "api_token", "share_link", "anonymous"]
    can_write: bool = Field(description="May create, upload, start jobs and share.")
    shared_project_id: int | None = None
    shared_study_id: int | None = None


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenList(BaseModel):
    tokens: list[ApiTokenRead]


class ShareLinkCreate(BaseModel):
    scan_id: RowId | None = Field(
        default=None, description="Share this scan's page (else the project)."
    )
    expires_in_days: float | None = Field(
        default=None,
        gt=0,
        le=3650,
        description="Days until the link stops working (default: never).",
    )
    label: str = Field(default="", max_length=200, description="A note: who the link is for.")


class ShareLinkRead(BaseModel):
    id: int
    project_id: int | None = Field(description="The shared project (None for a study link).")
    scan_id: int | None
    study_id: int | None = Field(default=None, description="The shared study, if any.")
    label: str
    path: str = Field(description="The page the link opens.")
    status: LinkStatus
    created_by: str | None
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_opened_at: datetime | None


class ShareLinkCreated(ShareLinkRead):
    url: str = Field(description="The link to hand out; shown once, only its hash is stored.")
    token: str = Field(description="The secret part of the link; shown once.")


class ShareLinkList(BaseModel):
    project_id: int | None
    study_id: int | None = None
    links: list[ShareLinkRead]


class StudyShareLinkCreate(BaseModel):
    expires_in_days: float | None = Field(
        default=None,
        gt=0,
        le=3650,
        description="Days until the link stops working (default: never).",
    )
    label: str = Field(default="", max_length=200, description="A note: who the link is for.")


# issue 11: sessions, the account page, project members.


class SessionRead(BaseModel):
    id: int
    user_agent: str
    ip: str
    created_at: datetime
    last_seen_at: datetime
    revoked_at: datetime | None
    current: bool = Field(description="The session this request came with.")


class SessionList(BaseModel):
    sessions: list[SessionRead]


class SessionsRevoked(BaseModel):
    revoked: int = Field(description="How many sessions were ended.")


class PasswordChange(BaseModel):
    current_password: str = Field(max_length=2000)
    new_password: str = Field(max_length=2000)


class AccountPage(BaseModel):
    """The account page: who you are, your sessions and API tokens; admins see every user."""

    user: UserRead
    sessions: list[SessionRead]
    tokens: list[ApiTokenRead]
    users: list[UserRead] | None = Field(default=None, description="Admins only.")


Role = Literal["owner", "editor", "viewer"]


class MemberRead(BaseModel):
    user_id: int
    username: str
    role: Role
    created_at: datetime


class MemberList(BaseModel):
    project_id: int
    members: list[MemberRead]
    your_role: Role | None = Field(
        description="Your role here (admins and the single-mode local user: owner)."
    )


class MemberAdd(BaseModel):
    username: str = Field(max_length=80)
    role: Role = "viewer"


class MemberUpdate(BaseModel):
    role: Role
