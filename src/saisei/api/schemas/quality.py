"""QC results, deviations, signatures, audit-trail review and disposition."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from saisei.api.schemas import RowId


class SignIn(BaseModel):
    """Signature components: the password and, for the first signing of a session, the user id
    (21 CFR 11.200(a)); the session is the one the request is made in."""

    password: str = Field(min_length=1, max_length=256)
    username: str | None = Field(default=None, max_length=64)


class QCResultIn(BaseModel):
    """A QC result of a lot (numeric ``value`` or ``value_text``, not both)."""

    attribute: str = Field(min_length=1, max_length=100, examples=["viability"])
    value: float | None = None
    value_text: str | None = Field(default=None, max_length=200)
    unit: str | None = Field(default=None, max_length=32)
    method: str | None = Field(default=None, max_length=100)
    sample_id: str | None = Field(default=None, max_length=64)
    tested_at: datetime | None = None
    purpose: str = Field(default="release", max_length=32)
    retest_of: RowId | None = None


class InvalidateIn(BaseModel):
    """Why a QC result is invalid (assignable laboratory error)."""

    reason: str = Field(min_length=1, max_length=2000)


class DeviationIn(BaseModel):
    """A new deviation."""

    description: str = Field(min_length=1, max_length=4000)
    category: str = Field(max_length=32, examples=["process"])
    severity: str = Field(max_length=16, examples=["minor"])
    lot: str | None = Field(default=None, max_length=64)
    qc_result_id: RowId | None = None
    custody_event_id: RowId | None = None
    shipment_code: str | None = Field(default=None, max_length=64)
    alarm_ref: str | None = Field(default=None, max_length=128)


class ClassifyIn(BaseModel):
    """New severity, with the reason."""

    severity: str = Field(max_length=16)
    reason: str | None = Field(default=None, max_length=2000)


class InvestigationIn(BaseModel):
    """Root cause (a replacement needs a reason)."""

    root_cause: str = Field(min_length=1, max_length=4000)
    reason: str | None = Field(default=None, max_length=2000)


class CapaIn(BaseModel):
    """Corrective and preventive action."""

    capa: str = Field(min_length=1, max_length=4000)


class CloseIn(SignIn):
    """QA approval signature closing a deviation."""

    conclusion: str | None = Field(default=None, max_length=4000)


class SignatureIn(SignIn):
    """Sign a QC result or a deviation as it is now."""

    record_type: str = Field(max_length=32, examples=["qc_result"])
    record_id: str = Field(min_length=1, max_length=64)
    meaning: str = Field(max_length=32, examples=["review"])


class ReviewIn(SignIn):
    """Audit-trail review of a lot, signed with meaning ``review``."""

    comment: str | None = Field(default=None, max_length=4000)


class ReleaseIn(SignIn):
    """QA release signature."""

    reason: str | None = Field(default=None, max_length=2000)


class RejectIn(SignIn):
    """QA rejection signature with its reason."""

    reason: str = Field(min_length=1, max_length=2000)
