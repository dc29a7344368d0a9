"""Shipments, monitoring and users."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field


class AcknowledgeIn(BaseModel):
    """Acknowledgement of one transport excursion or monitoring alarm, with a comment."""

    comment: str = Field(min_length=1, max_length=4000)


class AcknowledgeAlarmsIn(BaseModel):
    """Acknowledgement of several monitoring alarms with one comment: those named by id, or
    every open alarm of a lot (exactly one of the two)."""

    comment: str = Field(min_length=1, max_length=4000)
    alarms: list[Annotated[int, Field(ge=1, le=2_147_483_647)]] = Field(
        default_factory=list, max_length=10_000
    )
    lot: str | None = Field(default=None, min_length=1, max_length=64)


class BuildModelIn(BaseModel):
    """A monitoring model fitted on reference lots."""

    name: str = Field(min_length=1, max_length=100)
    product: str = Field(max_length=32, examples=["MSC"])
    stage: str = Field(min_length=1, max_length=64, examples=["expansion"])
    lots: list[str] | None = None
    variables: list[str] | None = None
    n_components: int | None = Field(default=None, ge=1, le=50)
    alpha: float = Field(default=0.01, gt=0.0, lt=0.5)
    resample_h: float = Field(default=1.0, gt=0.0, le=168.0)


class ScoreIn(BaseModel):
    """Score a lot against a model and store its new alarms."""

    lot: str = Field(min_length=1, max_length=64)
    model: str = Field(min_length=1, max_length=100)
    version: int | None = Field(default=None, ge=1, le=2_147_483_647)


class UserIn(BaseModel):
    """A new account."""

    username: str = Field(min_length=1, max_length=64)
    full_name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=256)
    roles: list[str] = Field(min_length=1)
    party_code: str | None = Field(default=None, max_length=64)
    reason: str | None = Field(default=None, max_length=2000)


class RoleIn(BaseModel):
    """A role to grant, with the reason."""

    role: str = Field(max_length=32)
    reason: str = Field(min_length=1, max_length=2000)


class ReasonIn(BaseModel):
    """The reason of an account change."""

    reason: str = Field(min_length=1, max_length=2000)


class PasswordResetIn(ReasonIn):
    """A new password set by an administrator."""

    new_password: str = Field(min_length=1, max_length=256)
