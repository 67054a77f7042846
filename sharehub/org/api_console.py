"""The organization console (/manage/) through the API (issue 14): people imports, service accounts, sign-in
attempts and the access settings. Thin handlers over what the console's pages call (sharehub.org.manage.*):
sharehub.org.people_import, sharehub.org.queries and sharehub.org.services, sharehub.access.queries and
sharehub.access.services. Everything here is for organization admins; anyone else gets 404, as on the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Literal

from django.conf import settings
from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Status
from ninja.files import UploadedFile

from sharehub.access import queries as access_queries
from sharehub.access import services as access_services
from sharehub.access.models import AccessSettings
from sharehub.errors import Invalid, NotFound, TooLarge
from sharehub.org import people_import, queries, services
from sharehub.org.api import department_ref, person_ref
from sharehub.org.models import ApiToken, Department, PeopleImport, User
from sharehub.org.schemas import (
    MAX_DB_INT,
    AccessSettingsIn,
    AccessSettingsOut,
    ApprovalRuleIn,
    ApprovalRuleOut,
    ApprovalRulePage,
    DbId,
    PeopleImportDetail,
    PeopleImportOut,
    PeopleImportPage,
    ServiceAccountIn,
    ServiceAccountOut,
    ServiceAccountPage,
    ServiceAccountPatch,
    ServiceTokenCreated,
    ServiceTokenIn,
    ServiceTokenPage,
    SignInAttemptPage,
    SignInUnlockIn,
    SignInUnlockOut,
)
from sharehub.policy.engine import OrgAction, can

router = Router(tags=["organization"])
# Documents the 404 that everyone but organization admins gets on routes without an id (those with one have it).
_ADMIN_ONLY = {"x-sharehub-not-found": True}

MAX_PAGE = 200
CURSOR = Query(None, ge=1, le=MAX_DB_INT, description="`next_cursor` of the previous page")
LIMIT = Query(50, ge=1, le=MAX_PAGE)


def _admin_or_404(actor) -> None:
    """The console is for organization admins; to anyone else it does not exist (as the pages answer)."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()


def _page(rows, limit: int, cursor_of) -> tuple[list, str | None]:
    """One page of a queryset already cut at the cursor: at most `limit` rows and the next cursor."""
    page = list(rows[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return page, (cursor_of(page[-1]) if more and page else None)


# --- people imports (the page: sharehub.org.manage.imports) -------------------------------------------------


ImportShow = Literal["error", "create", "update", "unchanged"]
SHOW = Query(None, description="Only the rows of this action")


def _import(found: PeopleImport) -> dict:
    summary = found.summary or {}
    return {
        "id": found.pk,
        "file_name": found.file_name,
        "status": found.status,
        "created_at": found.created_at,
        "created_by": person_ref(found.created_by),
        "applied_at": found.applied_at,
        "rows": int(summary.get("rows", 0) or 0),
        "counts": {action: int(summary.get(action, 0) or 0) for action in people_import.ACTIONS},
        "columns": [str(c) for c in summary.get("columns", ())],
        "ignored": [str(c) for c in summary.get("ignored", ())],
        "reason": str(summary.get("reason") or ""),
    }


def _import_row(row: dict) -> dict:
    errors = row.get("errors") or {}
    return {
        "line": row.get("line", 0),
        "action": row.get("action", "error"),
        "values": {str(k): str(v) for k, v in (row.get("values") or {}).items()},
        "changes": list(row.get("changes") or ()),
        "errors": {name: people_import.error_text(*reason) for name, reason in errors.items()},
        "departments": list(row.get("departments") or ()),
    }


@router.post(
    "/people/imports",
    response={201: PeopleImportOut},
    summary="Upload people to import, as CSV or XLSX (multipart field `file`): checked and kept as a preview (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def upload_people_import(request, file: File[UploadedFile]):
    _admin_or_404(request.user)
    if file.size > people_import.MAX_BYTES:
        message = _("The file is larger than %(n)s MB; split it into smaller files.")
        raise TooLarge(fields={"file": message % {"n": people_import.MAX_BYTES // 2**20}})
    found = people_import.preview_upload(request.user, file.read(), file.name or "")
    return Status(201, _import(queries.access_people_import(request.user, found.pk)))


@router.get(
    "/people/imports",
    response=PeopleImportPage,
    summary="People imports, newest first (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def list_people_imports(request, cursor: int | None = CURSOR, limit: int = LIMIT):
    imports = queries.people_imports(request.user).order_by("-pk")
    if cursor is not None:
        imports = imports.filter(pk__lt=cursor)
    page, next_cursor = _page(imports, limit, lambda found: str(found.pk))
    return {"items": [_import(found) for found in page], "next_cursor": next_cursor}


def _template(fmt: str) -> HttpResponse:
    return people_import.template_response(fmt)


@router.get(
    "/people/imports/template.csv",
    response={200: None},
    summary="The CSV file to fill in: the header row, in Chinese for a Chinese reader (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def people_import_template_csv(request):
    _admin_or_404(request.user)
    return _template("csv")


@router.get(
    "/people/imports/template.xlsx",
    response={200: None},
    summary="The XLSX workbook to fill in: the header row, in Chinese for a Chinese reader (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def people_import_template_xlsx(request):
    _admin_or_404(request.user)
    return _template("xlsx")


@router.get(
    "/people/imports/{import_id}",
    response=PeopleImportDetail,
    summary="One people import: its counts and its rows, errors first (admins)",
)
def get_people_import(
    request,
    import_id: DbId,
    show: ImportShow | None = SHOW,
    cursor: int | None = CURSOR,
    limit: int = LIMIT,
):
    found = queries.access_people_import(request.user, import_id)
    rows = people_import.ordered_rows(found, show or "")
    start = min(cursor or 0, len(rows))
    page = rows[start : start + limit]
    more = start + limit < len(rows)
    return {
        **_import(found),
        "items": [_import_row(row) for row in page],
        "next_cursor": str(start + limit) if more else None,
    }


@router.post(
    "/people/imports/{import_id}/apply",
    response={200: PeopleImportOut},
    summary="Import the valid rows of a preview, all or nothing; `status` failed and `reason` say why not (admins)",
)
def apply_people_import(request, import_id: DbId):
    found = queries.access_people_import(request.user, import_id)
    found = people_import.apply_import(request.user, found)
    return _import(found)


@router.post(
    "/people/imports/{import_id}/discard",
    response={200: PeopleImportOut},
    summary="Discard a preview; nothing is written (admins)",
)
def discard_people_import(request, import_id: DbId):
    found = queries.access_people_import(request.user, import_id)
    return _import(people_import.discard_import(request.user, found))


# --- service accounts (the pages: sharehub.org.manage.accounts) ---------------------------------------------


AccountState = Literal["active", "inactive"]
OWNER = Query(None, description="Only those this department owns")


def _account(account: User) -> dict:
    owner = account.service_owner
    return {
        "id": account.pk,
        "username": account.username,
        "display_name": account.display_name,
        "is_active": account.is_active,
        "department": department_ref(owner) if owner is not None else None,
        "active_tokens": getattr(account, "active_tokens", 0) or 0,
        "last_token_use": getattr(account, "last_token_use", None),
    }


def _owner_department(department_id: int | None) -> Department:
    """A department chosen in the body, among those that may own a service account (as the pages choose)."""
    chosen = {d.pk: d for d in queries.owner_departments()}.get(department_id)
    if chosen is None:
        raise Invalid(fields={"department": _("Choose a department that is not archived.")})
    return chosen


@router.get(
    "/service-accounts",
    response=ServiceAccountPage,
    summary="Service accounts, by id, with their working tokens (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def list_service_accounts(
    request,
    department: DbId | None = OWNER,
    state: AccountState | None = None,
    cursor: int | None = CURSOR,
    limit: int = LIMIT,
):
    accounts = queries.manage_service_accounts(request.user, department_id=department, state=state or "")
    accounts = accounts.order_by("pk")
    if cursor is not None:
        accounts = accounts.filter(pk__gt=cursor)
    page, next_cursor = _page(accounts, limit, lambda account: str(account.pk))
    return {"items": [_account(account) for account in page], "next_cursor": next_cursor}


@router.post(
    "/service-accounts",
    response={201: ServiceAccountOut},
    summary="Create a service account (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def create_service_account(request, payload: ServiceAccountIn):
    _admin_or_404(request.user)
    department = _owner_department(payload.department)
    account = services.create_service_account(
        request.user, department=department, username=payload.username, display_name=payload.display_name.strip()
    )
    return Status(201, _account(queries.access_service_account(request.user, account.pk)))


@router.patch(
    "/service-accounts/{account_id}",
    response={200: ServiceAccountOut},
    summary="Rename a service account, give it another owning department, deactivate or reactivate it (admins)",
)
def update_service_account(request, account_id: DbId, payload: ServiceAccountPatch):
    account = queries.access_service_account(request.user, account_id)
    changes = payload.model_dump(exclude_none=True)
    with transaction.atomic():
        if "display_name" in changes or "department" in changes:
            department = _owner_department(changes["department"]) if "department" in changes else None
            services.update_service_account(
                request.user, account, display_name=changes.get("display_name"), department=department
            )
        if "is_active" in changes:
            services.update_person(request.user, account, is_active=changes["is_active"])
    return _account(queries.access_service_account(request.user, account.pk))


def _token(token: ApiToken) -> dict:
    state = "revoked" if token.revoked_at is not None else "expired" if token.is_expired else "active"
    return {
        "id": token.pk,
        "name": token.name,
        "prefix": token.prefix,
        "scopes": list(token.scopes or ()),
        "state": state,
        "created_at": token.created_at,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
    }


@router.post(
    "/service-accounts/{account_id}/tokens",
    response={201: ServiceTokenCreated},
    summary="Make a token for a service account; the secret is in this answer only (admins)",
)
def issue_service_token(request, account_id: DbId, payload: ServiceTokenIn, response: HttpResponse):
    account = queries.access_service_account(request.user, account_id)
    token, secret = services.issue_token(request.user, account, payload.name, scopes=payload.scopes, days=payload.days)
    response["Cache-Control"] = "no-store"
    return Status(201, {**_token(token), "secret": secret})


@router.get(
    "/service-accounts/{account_id}/tokens",
    response=ServiceTokenPage,
    summary="A service account's tokens, newest first (admins)",
)
def list_service_tokens(request, account_id: DbId, cursor: int | None = CURSOR, limit: int = LIMIT):
    account = queries.access_service_account(request.user, account_id)
    tokens = account.api_tokens.order_by("-pk")
    if cursor is not None:
        tokens = tokens.filter(pk__lt=cursor)
    page, next_cursor = _page(tokens, limit, lambda token: str(token.pk))
    return {"items": [_token(token) for token in page], "next_cursor": next_cursor}


# --- sign-in attempts (the page: sharehub.org.manage.signins) -----------------------------------------------


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ATTEMPT_CURSOR = re.compile(r"([0-9]{1,18})\.([0-9]{1,19})")


def _attempt_cursor(attempt) -> str:
    return f"{(attempt.attempt_time - _EPOCH) // timedelta(microseconds=1)}.{attempt.pk}"


def _after_attempt(cursor: str) -> tuple[datetime, int]:
    found = _ATTEMPT_CURSOR.fullmatch(cursor)
    if found is None or int(found[2]) > MAX_DB_INT:
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")})
    try:
        moment = _EPOCH + timedelta(microseconds=int(found[1]))
    except OverflowError:
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")}) from None
    return moment, int(found[2])


def _signed_in_person(person: queries.PersonLabel) -> dict:
    return {"username": person.username, "display_name": person.name, "departments": list(person.departments)}


@router.get(
    "/sign-in-attempts",
    response=SignInAttemptPage,
    summary="Failed sign-ins (per username, address and browser), newest first, and whether each is paused (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def list_sign_in_attempts(
    request,
    locked: bool = Query(False, description="Only those whose username or address is paused now"),
    username: str | None = Query(None, max_length=150, description="Part of the username"),
    cursor: str | None = Query(None, max_length=40, description="`next_cursor` of the previous page"),
    limit: int = LIMIT,
):
    from axes.helpers import get_cool_off
    from django.db.models import Q

    attempts = queries.sign_in_attempts(request.user, locked_only=locked, username=username or "")
    if cursor is not None:
        moment, pk = _after_attempt(cursor)
        attempts = attempts.filter(Q(attempt_time__lt=moment) | Q(attempt_time=moment, pk__lt=pk))
    page, next_cursor = _page(attempts, limit, _attempt_cursor)
    items = []
    for row in queries.attempt_rows(page):
        person = row.person
        items.append(
            {
                "id": row.attempt.pk,
                "username": row.attempt.username,
                "ip_address": row.attempt.ip_address,
                "user_agent": row.attempt.user_agent or "",
                "failures": row.attempt.failures_since_start,
                "attempt_time": row.attempt.attempt_time,
                "locked": row.locked,
                "until": row.until,
                "person": None if person is None else _signed_in_person(person),
            }
        )
    return {
        "items": items,
        "next_cursor": next_cursor,
        "failure_limit": settings.AXES_FAILURE_LIMIT,
        "cool_off_minutes": int(get_cool_off().total_seconds() // 60),
    }


@router.post(
    "/sign-in-attempts/unlock",
    response={200: SignInUnlockOut},
    summary="Lift the sign-in pause of a username before it ends by itself (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def unlock_sign_in(request, payload: SignInUnlockIn):
    _admin_or_404(request.user)
    username = payload.username
    if not username.strip() or len(username) > 255:
        raise Invalid(fields={"username": _("Name the username whose sign-in pause to lift.")})
    return {"username": username, "cleared": services.unlock_sign_in(request.user, username)}


# --- settings (the pages: sharehub.org.manage.settings) -----------------------------------------------------


SETTING_NAMES = tuple(access_services.SETTINGS_LIMITS)


def _settings(current: AccessSettings) -> dict:
    return {
        **{name: getattr(current, name) for name in SETTING_NAMES},
        "limits": {name: list(limits) for name, limits in access_services.SETTINGS_LIMITS.items()},
    }


@router.get(
    "/settings/access",
    response=AccessSettingsOut,
    summary="The access settings: the decision deadline, the reminder, the notice before a grant ends (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def get_access_settings(request):
    _admin_or_404(request.user)
    return _settings(AccessSettings.current())


@router.put(
    "/settings/access",
    response={200: AccessSettingsOut},
    summary="Change the access settings; requests already open keep their deadline (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def put_access_settings(request, payload: AccessSettingsIn):
    _admin_or_404(request.user)
    return _settings(access_services.update_access_settings(request.user, **payload.model_dump()))


def _rule(department: Department) -> dict:
    rule = getattr(department, "approval_rule", None)
    return {
        "department": department_ref(department),
        "head_for_outsiders": bool(rule and rule.head_for_outsiders),
        "trusted_departments": [department_ref(d) for d in rule.trusted_departments.all()] if rule else [],
    }


_PATH_CURSOR = re.compile(r"(/[0-9]{1,19})+/")


@router.get(
    "/approval-rules",
    response=ApprovalRulePage,
    summary="Each department's approval rule (departments not archived, in tree order) (admins)",
    openapi_extra=_ADMIN_ONLY,
)
def list_approval_rules(
    request,
    cursor: str | None = Query(None, max_length=255, description="`next_cursor` of the previous page"),
    limit: int = LIMIT,
):
    rules = access_queries.approval_rules(request.user)
    if cursor is not None:
        if not _PATH_CURSOR.fullmatch(cursor):
            raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")})
        rules = rules.filter(path__gt=cursor)
    page, next_cursor = _page(rules, limit, lambda department: department.path)
    return {"items": [_rule(department) for department in page], "next_cursor": next_cursor}


@router.put(
    "/departments/{department_id}/approval-rule",
    response={200: ApprovalRuleOut},
    summary="Set a department's approval rule: whether its head also decides requests from outside (admins)",
)
def put_approval_rule(request, department_id: DbId, payload: ApprovalRuleIn):
    _admin_or_404(request.user)
    departments = list(queries.owner_departments())
    by_id = {d.pk: d for d in departments}
    department = by_id.get(department_id)
    if department is None:
        raise NotFound()
    if any(pk not in by_id for pk in payload.trusted_departments):
        raise Invalid(fields={"trusted_departments": _("Choose departments from the list.")})
    trusted = set(payload.trusted_departments)
    access_services.set_approval_rule(
        request.user,
        department,
        head_for_outsiders=payload.head_for_outsiders,
        trusted_departments=[d for d in departments if d.pk in trusted],
    )
    return _rule(access_queries.approval_rules(request.user).get(pk=department.pk))
