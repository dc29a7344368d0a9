"""The one exception hierarchy of saisei.

Library code raises these; the edges translate them (the CLI into a message on stderr and
exit code 1, the API into one JSON error shape, the web into an error page). Messages name the
thing, what it must be, what was received and, where there is one, the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "AuditChainBroken",
    "AuthenticationFailed",
    "AuthenticationUnavailable",
    "ConfigurationError",
    "Conflict",
    "CustodyBreak",
    "FieldError",
    "IntegrityViolation",
    "NotFittedError",
    "NotFound",
    "PermissionDenied",
    "SaiseiError",
    "SignatureRequired",
    "StorageError",
    "TimeSeriesIntegrityError",
    "ValidationFailed",
]


class SaiseiError(Exception):
    """Base of every error saisei raises on purpose.

    Parameters
    ----------
    message : str
        A complete sentence for a person: what, expected, received, fix.
    """

    #: Short machine-readable code, stable across releases (used by the API error body).
    code: str = "saisei_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ConfigurationError(SaiseiError):
    """A setting is missing, malformed or unsafe for the environment."""

    code = "configuration_error"


class NotFound(SaiseiError, LookupError):
    """A record that was named does not exist."""

    code = "not_found"


class Conflict(SaiseiError):
    """The request contradicts stored state (duplicate key, illegal status transition)."""

    code = "conflict"


@dataclass(frozen=True)
class FieldError:
    """One problem with one value of an input, located as precisely as it can be.

    Attributes
    ----------
    message : str
        What is wrong and what it must be.
    file : str or None
        Input file name, when the value came from a file.
    row : int or None
        1-based data row number in that file (the header is row 0).
    field : str or None
        Column or field name.
    value : object
        The value received.
    """

    message: str
    file: str | None = None
    row: int | None = None
    field: str | None = None
    value: object = None

    def __str__(self) -> str:
        where = [
            part
            for part in (
                self.file,
                f"row {self.row}" if self.row is not None else None,
                f"field '{self.field}'" if self.field else None,
            )
            if part
        ]
        got = f" (got {self.value!r})" if self.value is not None else ""
        return f"{', '.join(where)}: {self.message}{got}" if where else f"{self.message}{got}"


class ValidationFailed(SaiseiError, ValueError):
    """Input that does not meet its schema, range or reference rules.

    Parameters
    ----------
    message : str
        Summary sentence.
    errors : sequence of FieldError, optional
        Every individual problem found, each naming file, row and field where known.
    """

    code = "validation_failed"

    def __init__(self, message: str, errors: Sequence[FieldError] = ()) -> None:
        super().__init__(message)
        self.errors: tuple[FieldError, ...] = tuple(errors)

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        shown = "\n".join(f"  - {e}" for e in self.errors[:20])
        more = len(self.errors) - 20
        tail = f"\n  ... and {more} more" if more > 0 else ""
        return f"{self.message}\n{shown}{tail}"


class NotFittedError(SaiseiError, AttributeError):
    """An estimator was used before ``fit``.

    Also an ``AttributeError`` so that scikit-learn's ``check_is_fitted`` conventions hold.
    """

    code = "not_fitted"


class PermissionDenied(SaiseiError):
    """The acting user lacks the role the operation requires."""

    code = "permission_denied"


class AuthenticationFailed(SaiseiError):
    """Wrong user id or password, or a locked account."""

    code = "authentication_failed"


class AuthenticationUnavailable(SaiseiError):
    """The authentication service could not be reached; distinct from a wrong password."""

    code = "authentication_unavailable"


class SignatureRequired(SaiseiError):
    """A step needs an electronic signature that is missing or no longer valid."""

    code = "signature_required"


class CustodyBreak(SaiseiError):
    """A custody event would break or contradicts the chain of identity or custody."""

    code = "custody_break"


class StorageError(SaiseiError):
    """The store cannot be reached or is not at the expected schema revision."""

    code = "storage_error"


class IntegrityViolation(SaiseiError):
    """Stored records fail an integrity check (base of the two below)."""

    code = "integrity_violation"


class AuditChainBroken(IntegrityViolation):
    """The audit trail's hash chain does not verify.

    Attributes
    ----------
    seq : int or None
        Sequence number of the first audit row that fails, when one does.
    """

    code = "audit_chain_broken"

    def __init__(self, message: str, *, seq: int | None = None) -> None:
        super().__init__(message)
        self.seq = seq


class TimeSeriesIntegrityError(IntegrityViolation):
    """A time-series segment file is missing or its content no longer matches its sha256.

    Attributes
    ----------
    path : str or None
        The file that fails.
    """

    code = "timeseries_integrity"

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path
