"""The REST API under /api/v1: authentication, the one error shape, and each app's router."""

from __future__ import annotations

import json
import logging
import math

from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from sharehub import throttling
from sharehub.errors import RETRY_AFTER_SECONDS, Invalid, ServiceError, is_database_busy

logger = logging.getLogger(__name__)


class MalformedBody(ServiceError):
    status = 400
    code = "malformed_json"


def _nul_fields(value, path: str = "") -> list[str]:
    """Where strings hold a NUL character, which no database text column accepts."""
    if isinstance(value, str):
        return [path or "body"] if "\x00" in value else []
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return []
    found = []
    for key, item in items:
        child = f"{path}.{key}" if path else str(key)
        found += [child] if "\x00" in str(key) else _nul_fields(item, child)
    return found


def _reject_nul(data):
    fields = _nul_fields(data)
    if fields:
        raise Invalid(fields={name: _("Must not contain the NUL character.") for name in fields[:20]})
    return data


class StrictJsonParser(Parser):
    def parse_body(self, request):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedBody(_("The request body is not valid JSON."), fields={"body": str(error)[:200]}) from None
        return _reject_nul(data)

    def parse_querydict(self, data, list_fields, request):
        return _reject_nul(super().parse_querydict(data, list_fields, request))


class BearerToken(HttpBearer):
    """`Authorization: Bearer shr_…` for people's personal tokens and service accounts."""

    def authenticate(self, request, token):
        from sharehub.org.services import user_for_token

        user = user_for_token(token)
        if user is not None:
            request.user = user
            request.rate_limit_key = throttling.token_key(token)
        return user


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": {k: str(v) for k, v in (fields or {}).items()}}}


api = NinjaAPI(
    title="Sharehub API",
    version="1",
    description="Catalog, sharing policy and audit of a Sharehub organization. "
    "Authenticate with `Authorization: Bearer <token>` or a browser session (with CSRF).",
    auth=[BearerToken(), SessionAuth()],
    parser=StrictJsonParser(),
    urls_namespace="api",
    docs_url="/docs",
    throttle=[throttling.PerCaller()],
)


_SOURCES = ("body", "query", "path", "form", "file", "header", "cookie")
_SCHEMA_PARAMS = ("payload", "filters")


def _field_path(loc) -> str:
    """("body", "payload", "tags", 0) -> "tags.0"; ("file", "file") -> "file"."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in _SCHEMA_PARAMS:
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ServiceError)
def _service_error(request, exc: ServiceError):
    return api.create_response(request, error_body(exc.code, exc.message, exc.fields), status=exc.status)


def _validation_message(item: dict) -> str:
    """Pydantic's reason for a field, in the caller's language where we know the kind of error."""
    kind = item.get("type", "")
    context = item.get("ctx") or {}
    if kind == "missing":
        return _("This field is required.")
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return _("Must be a whole number.")
    if kind in ("bool_parsing", "bool_type"):
        return _("Must be true or false.")
    if kind in ("string_type", "string_unicode"):
        return _("Must be text.")
    if kind in ("list_type", "tuple_type", "set_type"):
        return _("Must be a list.")
    if kind in ("datetime_parsing", "datetime_type", "datetime_from_date_parsing", "date_parsing", "date_type"):
        return _("Must be a date or time like 2026-01-31T08:00:00+08:00.")
    if kind == "enum" and "expected" in context:
        return _("Choose one of: %(choices)s.") % {"choices": context["expected"]}
    if kind == "string_too_long" and "max_length" in context:
        return _("At most %(n)s characters.") % {"n": context["max_length"]}
    if kind == "greater_than_equal":
        return _("Must be at least %(n)s.") % {"n": context.get("ge")}
    if kind == "greater_than":
        return _("Must be more than %(n)s.") % {"n": context.get("gt")}
    if kind == "less_than_equal":
        return _("Must be at most %(n)s.") % {"n": context.get("le")}
    if kind == "less_than":
        return _("Must be less than %(n)s.") % {"n": context.get("lt")}
    if kind == "extra_forbidden":
        return _("Unknown field.")
    return item.get("msg", _("invalid"))


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    fields = {}
    for item in exc.errors:
        fields.setdefault(_field_path(item.get("loc", ())), _validation_message(item))
    return api.create_response(request, error_body("invalid", _("Some fields are not valid."), fields), status=422)


def _rate_limited(request, wait: int | None):
    seconds = max(1, math.ceil(wait or 1))
    message = _("Too many requests; try again in %(n)s seconds.") % {"n": seconds}
    response = api.create_response(request, error_body("rate_limited", message), status=429)
    response["Retry-After"] = str(seconds)
    return response


@api.exception_handler(Throttled)
def _throttled(request, exc: Throttled):
    return _rate_limited(request, exc.wait)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    wait = throttling.anonymous_wait(request)
    if wait is not None:
        return _rate_limited(request, wait)
    return api.create_response(
        request, error_body("unauthenticated", _("Sign in or send a valid bearer token.")), status=401
    )


@api.exception_handler(AuthorizationError)
def _unauthorized(request, exc):
    return api.create_response(request, error_body("forbidden", _("You are not allowed to do this.")), status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    if isinstance(exc.__cause__, ServiceError):  # ninja wraps the parser's MalformedBody
        return _service_error(request, exc.__cause__)
    if exc.status_code == 403:  # ninja's SessionAuth CSRF check
        message = _("The CSRF check failed; reload the page and try again.")
        return api.create_response(request, error_body("csrf_failed", message), status=403)
    return api.create_response(request, error_body("http_error", str(exc)), status=exc.status_code)


@api.exception_handler(Exception)
def _unexpected(request, exc):
    if is_database_busy(exc):
        response = api.create_response(
            request, error_body("busy", _("The database is busy; try again in a few seconds.")), status=503
        )
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    logger.exception("unexpected API error on %s", request.path)
    return api.create_response(
        request, error_body("server_error", _("Something went wrong on our side; it has been logged.")), status=500
    )


def _mount() -> None:
    from sharehub.access.api import router as access_router
    from sharehub.catalog.api import router as catalog_router
    from sharehub.events.api import router as events_router
    from sharehub.feeds.api import router as feeds_router
    from sharehub.org.api import router as org_router
    from sharehub.search.api import router as search_router

    api.add_router("", org_router)
    api.add_router("", catalog_router)
    api.add_router("", events_router)
    api.add_router("", access_router)
    api.add_router("", feeds_router)
    api.add_router("", search_router)


_mount()
