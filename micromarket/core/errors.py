"""Domain errors: an exception with a stable code and a message a person can act on.

Services raise these; the web layer turns them into form errors or flash messages, the API into
RFC 9457 problem+json responses with the same ``code`` (see ``micromarket.core.api``).
"""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the domain refused the operation. Nothing was written."""

    status = 400
    code = "invalid"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        field: str | None = None,
        errors: list[dict] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.field = field
        self.errors = errors or []

    def __str__(self) -> str:
        return self.message


class ValidationFailed(DomainError):
    """Input broke a rule (a field-level problem, usually)."""

    status = 422
    code = "validation_failed"


class NotFound(DomainError):
    """The object does not exist, or the caller may not know that it does."""

    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """The caller is known and the object visible, but this action is not theirs to take."""

    status = 403
    code = "forbidden"


class Conflict(DomainError):
    """The operation clashes with the current state (already done, taken, changed meanwhile)."""

    status = 409
    code = "conflict"


class RateLimited(DomainError):
    """Too many of these too quickly; the message says when it is possible again."""

    status = 429
    code = "rate_limited"
