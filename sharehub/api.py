"""The REST API under /api/v1: authentication, the one error shape, and each app's router."""

from __future__ import annotations

import json
import logging
import math

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, AuthorizationError, HttpError, Throttled, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer, SessionAuth

from sharehub import throttling
from sharehub.errors import RETRY_AFTER_SECONDS, Forbidden, Invalid, ServiceError, from_request_error, is_database_busy
from sharehub.validation import text_problems

logger = logging.getLogger(__name__)


class MalformedBody(ServiceError):
    status = 400
    code = "malformed_json"


def _reject_bad_text(data):
    problems = text_problems(data)
    if problems:
        raise Invalid(fields=dict(list(problems.items())[:20]))
    return data


class StrictJsonParser(Parser):
    """JSON bodies and query strings whose every string can be stored (see `sharehub.validation`)."""

    def parse_body(self, request):
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError) as error:
            raise MalformedBody(_("The request body is not valid JSON."), fields={"body": str(error)[:200]}) from None
        return _reject_bad_text(data)

    def parse_querydict(self, data, list_fields, request):
        """An empty value (`?kind=`) means the parameter was not given, as forms send them; a parameter
        that takes one value and is given several is refused rather than read as its last."""
        repeated = [name for name in data if name not in list_fields and len(data.getlist(name)) > 1]
        if repeated:
            raise Invalid(fields={name: _("Give this parameter once.") for name in repeated[:20]})
        parsed = {}
        for name, value in super().parse_querydict(data, list_fields, request).items():
            if isinstance(value, list):
                value = [item for item in value if item != ""]
            if value not in ("", []):
                parsed[name] = value
        return _reject_bad_text(parsed)


class BearerToken(HttpBearer):
    """`Authorization: Bearer shr_…` for people's personal tokens and service accounts. Mounted once per
    area of the API (`area`, sharehub.org.scopes.AREAS), so a token is let through only where its scopes
    reach; a token that signs in nobody leaves why on the request, for the 401."""

    def __init__(self, area: str | None = None) -> None:
        super().__init__()
        self.area = area

    def authenticate(self, request, token):
        from sharehub.org import scopes
        from sharehub.org.services import TokenRefused, token_user

        try:
            user, granted = token_user(token)
        except TokenRefused as refusal:
            request.token_refused = str(refusal)
            return None
        if self.area is not None and not scopes.allows(granted, self.area, request.method):
            raise Forbidden(
                _("This token may %(granted)s; this request needs %(needed)s.")
                % {
                    "granted": _(", ").join(scopes.describe(granted)) or "—",
                    "needed": scopes.needed(self.area, request.method),
                },
                fields={"scopes": " ".join(granted)},
            )
        request.user = user
        request.rate_limit_key = throttling.token_key(token)
        return user


def error_body(code: str, message, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": {k: str(v) for k, v in (fields or {}).items()}}}


class ErrorDetail(Schema):
    code: str = Field(description="What went wrong, for programs: `invalid`, `not_found`, `conflict`, ...")
    message: str = Field(description="What went wrong, for people, in the caller's language")
    fields: dict[str, str] = Field(description="Field -> the reason it was refused (dotted paths into the body)")


class ErrorOut(Schema):
    """The one error shape of every answer from 400 up."""

    error: ErrorDetail


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}}


def _documented_errors(method: str, path: str, operation: dict) -> dict[int, tuple[str, dict]]:
    """The error statuses an operation can answer, with why, and their headers."""
    has_input = bool(operation.get("parameters") or operation.get("requestBody"))
    unsafe = method not in ("get", "head", "options")
    errors = {
        401: ("No valid bearer token or session", {}),
        403: ("The policy refuses this (with its reason), or the session's CSRF check failed", {}),
        429: ("Too many requests; wait as `Retry-After` says", _RETRY_AFTER),
    }
    if has_input:
        errors[400] = ("The request cannot be read: malformed JSON or form data, too many fields", {})
        errors[422] = ("Some fields are not valid; `fields` names each with the reason", {})
    if "{" in path or operation.pop("x-sharehub-not-found", False):  # an id in the path, or one in the body
        errors[404] = ("Not found, or not visible to the caller (the two look the same)", {})
    if unsafe:
        errors[409] = ("The request conflicts with the current state (already decided, a duplicate name)", {})
        errors[503] = ("The database is busy; try again after `Retry-After` seconds", _RETRY_AFTER)
    if operation.get("requestBody"):
        errors[413] = ("The request body or file is larger than the limit", {})
    return errors


_EMPTY = {"type": "string", "enum": [""], "description": "Empty: as if not given"}


def _empty_allowed(schema: dict) -> dict:
    """An optional query parameter may be sent empty (`?kind=`), meaning no filter (see the parser)."""
    if schema.get("type") == "array":
        return {**schema, "items": {"anyOf": [schema.get("items", {}), _EMPTY]}}
    return {"anyOf": [schema, _EMPTY]}


_NO_NUL = "^[^\\u0000]*$"


def _no_nul_in_text(node) -> None:
    """Every free-text string in the document refuses NUL, as the parser does (no database stores it)."""
    if isinstance(node, dict):
        if node.get("type") == "string" and not {"enum", "format", "pattern", "const"} & node.keys():
            node["pattern"] = _NO_NUL
        for value in node.values():
            _no_nul_in_text(value)
    elif isinstance(node, list):
        for value in node:
            _no_nul_in_text(value)


class SharehubAPI(NinjaAPI):
    """Ninja's API with every error status an operation can answer documented, with the one `ErrorOut`
    schema, so the OpenAPI document is true of what the server does."""

    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        error_schema = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        components.update(error_schema.pop("$defs", {}))
        components["ErrorOut"] = error_schema
        _no_nul_in_text(schema.get("paths", {}))
        _no_nul_in_text(components)
        reference = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
        for path, item in schema.get("paths", {}).items():
            for method, operation in item.items():
                for parameter in operation.get("parameters", []):
                    if parameter["in"] == "query" and not parameter.get("required"):
                        parameter["schema"] = _empty_allowed(parameter["schema"])
                responses = operation.setdefault("responses", {})
                errors = _documented_errors(method, path, operation)
                if "security" not in operation:
                    errors.pop(401), errors.pop(403)
                for status, (description, headers) in sorted(errors.items()):
                    answer = responses.setdefault(str(status), {"description": description, "content": reference})
                    if headers:
                        answer["headers"] = headers
        return schema


api = SharehubAPI(
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
    """("body", "payload", "tags", 0) -> "tags.0"; ("file", "file") -> "file"; ("query", "kind", 1) -> "kind"
    (a repeated query parameter is named once)."""
    parts = [str(p) for p in loc]
    if parts and parts[0] == "query":
        parts = [p for p in parts if not p.isdigit()]
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
    if kind == "value_error" and context.get("error"):
        return str(context["error"])
    if kind == "extra_forbidden":
        return _("Unknown field.")
    return item.get("msg", _("invalid"))


@api.exception_handler(ValidationError)
def _validation_error(request, exc: ValidationError):
    if any(item.get("loc", ("",))[0] == "path" for item in exc.errors):
        return _not_found(request, exc)  # a path whose id cannot be a row's names nothing; the rest is moot
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
    refused = getattr(request, "token_refused", None)
    if refused:
        return api.create_response(request, error_body("token_refused", refused), status=401)
    return api.create_response(
        request, error_body("unauthenticated", _("Sign in or send a valid bearer token.")), status=401
    )


@api.exception_handler(AuthorizationError)
def _unauthorized(request, exc):
    return api.create_response(request, error_body("forbidden", _("You are not allowed to do this.")), status=403)


@api.exception_handler(Http404)
def _not_found(request, exc):
    return api.create_response(request, error_body("not_found", _("Not found.")), status=404)


def _request_error(request, exc):
    return _service_error(request, from_request_error(exc))


for _kind in (SuspiciousOperation, BadRequest, MultiPartParserError, UnreadablePostError):
    api.add_exception_handler(_kind, _request_error)


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    cause = exc.__cause__  # ninja wraps what the parser raised
    if isinstance(cause, ServiceError):
        return _service_error(request, cause)
    if from_request_error(cause) is not None:
        return _request_error(request, cause)
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


_STATUS_ERRORS = {
    400: ("bad_request", _lazy("The request cannot be carried out.")),
    403: ("forbidden", _lazy("You are not allowed to do this.")),
    404: ("not_found", _lazy("Not found.")),
    405: ("method_not_allowed", _lazy("This method is not allowed here.")),
    413: ("too_large", _lazy("The request is too large.")),
}
_SERVER_ERROR = ("server_error", _lazy("Something went wrong on our side; it has been logged."))


class JsonErrorsMiddleware:
    """Under /api/v1/, answers made outside the routes' handlers get the one error shape too: ninja's
    405 for a method a path does not have, the 404 for a path no route matches, and Django's 400s.
    A 405 keeps its `Allow` header and names the methods."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if response.status_code < 400 or not request.path_info.startswith(_api_prefix()):
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        fallback = _STATUS_ERRORS[400] if response.status_code < 500 else _SERVER_ERROR
        code, message = _STATUS_ERRORS.get(response.status_code, fallback)
        if response.status_code == 405 and response.has_header("Allow"):
            message = _("This method is not allowed here; use %(methods)s.") % {"methods": response["Allow"]}
        shaped = JsonResponse(error_body(code, message), status=response.status_code)
        for header in ("Allow", "Retry-After"):
            if response.has_header(header):
                shaped[header] = response[header]
        return shaped


def _api_prefix() -> str:
    from django.urls import reverse

    return reverse("api:api-root")


def _mount() -> None:
    from sharehub.access.api import router as access_router
    from sharehub.catalog.api import router as catalog_router
    from sharehub.events.api import router as events_router
    from sharehub.exchange.api import router as exchange_router
    from sharehub.feeds.api import router as feeds_router
    from sharehub.knowledge.api import router as knowledge_router
    from sharehub.org.api import router as org_router
    from sharehub.org.api_console import router as org_console_router
    from sharehub.search.api import router as search_router

    for router in (
        org_console_router,  # before org_router: its literal paths (/people/imports) go first
        org_router,
        catalog_router,
        events_router,
        access_router,
        feeds_router,
        search_router,
        exchange_router,
        knowledge_router,
    ):
        api.add_router("", router, auth=[BearerToken(area=router.tags[0]), SessionAuth()])


_mount()
