"""Sign-in."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LoginIn(BaseModel):
    """User id and password."""

    username: str = Field(min_length=1, max_length=64, examples=["qa.sato"])
    password: str = Field(min_length=1, max_length=256)


class TokenOut(BaseModel):
    """A session token: send it as ``Authorization: Bearer <token>``."""

    token: str
    token_type: str = "bearer"
    username: str
    roles: list[str]
    started_at: str
    session_timeout_min: int
