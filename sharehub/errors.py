"""Errors that services raise and every interface (API, pages, CLI) turns into one clear answer."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message=None, *, fields: dict | None = None):
        self.message = message or self.default_message()
        self.fields = fields or {}
        super().__init__(str(self.message))

    def default_message(self):
        return _("The request cannot be carried out.")


class NotFound(ServiceError):
    """Missing and forbidden-to-know look the same (invariant 2)."""

    status = 404
    code = "not_found"

    def default_message(self):
        return _("Not found.")


class Forbidden(ServiceError):
    """Only for callers who may know the target exists."""

    status = 403
    code = "forbidden"

    def default_message(self):
        return _("You are not allowed to do this.")


class Invalid(ServiceError):
    status = 422
    code = "invalid"

    def default_message(self):
        return _("Some fields are not valid.")


class TooLarge(ServiceError):
    status = 413
    code = "too_large"

    def default_message(self):
        return _("The upload is too large.")


class Conflict(ServiceError):
    status = 409
    code = "conflict"

    def default_message(self):
        return _("The request conflicts with the current state.")


RETRY_AFTER_SECONDS = 5


_RETRYABLE_SQLSTATES = ("40P01", "40001")  # deadlock_detected, serialization_failure


def is_database_busy(error: BaseException) -> bool:
    """Whether a database error means "busy, try again": SQLite's write lock held past its timeout, no
    pooled PostgreSQL connection free in time, or PostgreSQL ending one of two transactions that waited on
    each other (a deadlock or a serialization failure: the transaction was rolled back whole, so trying
    again is safe). Such a request answers 503 with Retry-After, not 500."""
    from django.db import OperationalError
    from psycopg_pool import PoolTimeout

    if not isinstance(error, OperationalError):
        return False
    if isinstance(error.__cause__, PoolTimeout):
        return True
    if getattr(error.__cause__, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    text = str(error).lower()
    return "database is locked" in text or "database table is locked" in text or "couldn't get a connection" in text


class BadRequest(ServiceError):
    """The request itself cannot be read (its encoding, its form data, too many fields)."""

    status = 400
    code = "bad_request"


def from_request_error(exc: Exception) -> ServiceError | None:
    """Django's errors about the request itself, as the answer every interface gives; None for others."""
    from django.conf import settings
    from django.core.exceptions import BadRequest as DjangoBadRequest
    from django.core.exceptions import (
        RequestDataTooBig,
        SuspiciousOperation,
        TooManyFieldsSent,
        TooManyFilesSent,
    )
    from django.http import UnreadablePostError
    from django.http.multipartparser import MultiPartParserError

    if isinstance(exc, RequestDataTooBig):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE // (1024 * 1024)
        return TooLarge(_("The request is too large; send at most %(n)s MB.") % {"n": limit})
    if isinstance(exc, TooManyFieldsSent):
        return BadRequest(
            _("The request has too many fields; send at most %(n)s.") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS}
        )
    if isinstance(exc, TooManyFilesSent):
        return BadRequest(
            _("The request has too many files; send at most %(n)s.") % {"n": settings.DATA_UPLOAD_MAX_NUMBER_FILES}
        )
    if isinstance(exc, MultiPartParserError):
        return BadRequest(
            _("The form data cannot be read: it needs a multipart boundary, and part headers (such as a file name) "
              "of at most 1024 bytes."),
            fields={"body": str(exc)[:200]},
        )  # fmt: skip
    if isinstance(exc, UnreadablePostError):
        return BadRequest(_("The request body could not be read in full."))
    if isinstance(exc, SuspiciousOperation | DjangoBadRequest):
        return BadRequest()
    return None
