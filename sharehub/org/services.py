"""Writes to the organization: departments, people, memberships, service accounts, tokens."""

from __future__ import annotations

import hashlib
import re
import secrets
import zoneinfo
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import DEFAULT_DB_ALIAS, transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from sharehub.db.prepared import PreparedRead
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.org import scopes as token_scopes
from sharehub.org.models import ApiToken, Department, Membership, User
from sharehub.policy.engine import OrgAction, can, forget, reviewer_ids
from sharehub.validation import text_problem

TOKEN_PREFIX = "shr_"
USERNAME = re.compile(r"^[\w.@+-]{1,150}$")
DEPT_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,19}$")
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _require_admin(actor) -> None:
    """`actor=None` is the operator at the command line, who already holds the machine."""
    if actor is None:
        return
    decision = can(actor, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)


def _path_for(department: Department) -> str:
    parent_path = department.parent.path if department.parent_id else "/"
    return f"{parent_path}{department.pk}/"


def _clean_department_fields(fields: dict, current: Department | None = None) -> dict:
    """Check a department's name and code (those given); raise Invalid naming each bad one."""
    fields = dict(fields)
    errors = {}
    others = Department.objects.exclude(pk=current.pk) if current is not None else Department.objects.all()
    if "name" in fields:
        fields["name"] = (fields["name"] or "").strip()
        if not fields["name"] or len(fields["name"]) > 120 or "\x00" in fields["name"]:
            errors["name"] = _("A department needs a name of at most 120 characters.")
        elif others.filter(name=fields["name"]).exists():
            errors["name"] = _("A department with this name exists already.")
    if "code" in fields:
        fields["code"] = (fields["code"] or "").strip()
        if not DEPT_CODE.fullmatch(fields["code"]):
            errors["code"] = _("The code starts with a letter and has at most 20 letters, digits, - or _.")
        elif others.filter(code__iexact=fields["code"]).exists():
            errors["code"] = _("A department with this code exists already.")
    if "description" in fields:
        fields["description"] = (fields["description"] or "").strip()
        problem = text_problem(fields["description"])
        if problem or len(fields["description"]) > MAX_DEPARTMENT_DESCRIPTION:
            errors["description"] = problem or _("At most %(n)s characters.") % {"n": MAX_DEPARTMENT_DESCRIPTION}
    if errors:
        raise Invalid(fields=errors)
    return fields


@transaction.atomic
def create_department(
    actor, *, name: str, code: str, parent: Department | None = None, description: str = ""
) -> Department:
    _require_admin(actor)
    refuse_archived(parent, "parent")
    fields = _clean_department_fields({"name": name, "code": code, "description": description})
    name, code, description = fields["name"], fields["code"], fields["description"]
    department = Department.objects.create(name=name, code=code, parent=parent, description=description)
    department.path = _path_for(department)
    department.save(update_fields=["path"])
    record(
        actor,
        "department.created",
        department,
        departments=[department],
        details={"name": name, "code": code, "parent": parent.pk if parent else None},
    )
    return department


DEPARTMENT_FIELDS = ("name", "code", "description")
MAX_DEPARTMENT_DESCRIPTION = 2000
PROFILE_FIELDS = ("display_name", "email", "time_zone", "is_active")


@transaction.atomic
def update_department(actor, department: Department, **changes) -> Department:
    """Rename a department or change its code or description; resource codes already issued keep theirs."""
    _require_admin(actor)
    unknown = set(changes) - set(DEPARTMENT_FIELDS)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    changes = _clean_department_fields(changes, department)
    changed = {name: value for name, value in changes.items() if getattr(department, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(department, name, value)
        department.save(update_fields=list(changed))
        record(actor, "department.updated", department, departments=[department], details=changed)
    return department


@transaction.atomic
def update_person(actor, user: User, **changes) -> User:
    """Change a person's profile or (de)activate them; people are never deleted, they carry history."""
    _require_admin(actor)
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    errors = {}
    if changes.get("email"):
        try:
            validate_email(changes["email"])
        except DjangoValidationError:
            errors["email"] = _("Enter a valid email address.")
        if len(changes["email"]) > 254:
            errors["email"] = _("At most %(n)s characters.") % {"n": 254}
    if changes.get("time_zone"):
        try:
            zoneinfo.ZoneInfo(changes["time_zone"])
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            errors["time_zone"] = _("Unknown time zone; use a name like Asia/Shanghai.")
    if len(changes.get("display_name") or "") > 120:
        errors["display_name"] = _("At most %(n)s characters.") % {"n": 120}
    if errors:
        raise Invalid(fields=errors)
    changed = {name: value for name, value in changes.items() if getattr(user, name) != value}
    if changed:
        for name, value in changed.items():
            setattr(user, name, value)
        user.save(update_fields=list(changed))
        forget(user)
        record(actor, "person.updated", user, details=changed)
    return user


@transaction.atomic
def set_password(actor, user: User, password: str | None) -> User:
    """An admin sets (or, with None, disables) someone's password."""
    _require_admin(actor)
    if password:
        try:
            validate_password(password, user)
        except DjangoValidationError as error:
            raise Invalid(fields={"password": " ".join(error.messages)}) from None
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save(update_fields=["password"])
    record(actor, "person.password_set", user, details={"usable": user.has_usable_password()})
    return user


@transaction.atomic
def move_department(actor, department: Department, new_parent: Department | None) -> Department:
    _require_admin(actor)
    if department.archived_at is not None:
        raise Invalid(fields={"parent": _("Restore the department before moving it.")})
    refuse_archived(new_parent, "parent")
    if new_parent is not None and (new_parent.pk == department.pk or new_parent.path.startswith(department.path)):
        raise Invalid(fields={"parent": _("A department cannot move under itself or its own sub-department.")})
    old_path = department.path
    department.parent = new_parent
    department.path = _path_for(department)
    department.save(update_fields=["parent", "path"])
    for child in Department.objects.filter(path__startswith=old_path).exclude(pk=department.pk):
        child.path = department.path + child.path[len(old_path) :]
        child.save(update_fields=["path"])
    record(
        actor,
        "department.moved",
        department,
        departments=[department],
        details={"parent": new_parent.pk if new_parent else None},
    )
    return department


@transaction.atomic
def create_person(
    actor,
    *,
    username: str,
    password: str | None = None,
    display_name: str = "",
    email: str = "",
    is_org_admin: bool = False,
    is_auditor: bool = False,
    check_password: bool = True,
) -> User:
    _require_admin(actor)
    errors = {}
    username = (username or "").strip()
    if not USERNAME.fullmatch(username):
        errors["username"] = _("A username has at most 150 letters, digits or . @ + - _")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("This username is taken.")
    if email:
        try:
            validate_email(email)
        except DjangoValidationError:
            errors["email"] = _("Enter a valid email address.")
    if password and check_password:
        try:
            validate_password(password, User(username=username, email=email, display_name=display_name))
        except DjangoValidationError as error:
            errors["password"] = " ".join(error.messages)
    if len(display_name or "") > 120:
        errors["display_name"] = _("At most %(n)s characters.") % {"n": 120}
    if errors:
        raise Invalid(fields=errors)
    user = User(
        username=username,
        display_name=display_name,
        email=email,
        is_org_admin=is_org_admin,
        is_auditor=is_auditor,
        is_staff=is_org_admin,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    record(actor, "person.created", user, details={"username": username, "admin": is_org_admin, "auditor": is_auditor})
    return user


@transaction.atomic
def set_org_roles(actor, user: User, *, is_org_admin: bool | None = None, is_auditor: bool | None = None) -> User:
    _require_admin(actor)
    if user.is_service and (is_org_admin or is_auditor):
        raise Invalid(fields={"roles": _("A service account cannot hold organization roles.")})
    changes = {}
    if is_org_admin is not None and user.is_org_admin != is_org_admin:
        user.is_org_admin = user.is_staff = is_org_admin
        changes["admin"] = is_org_admin
    if is_auditor is not None and user.is_auditor != is_auditor:
        user.is_auditor = is_auditor
        changes["auditor"] = is_auditor
    if changes:
        user.save(update_fields=["is_org_admin", "is_staff", "is_auditor"])
        forget(user)
        record(actor, "person.roles_changed", user, details=changes)
    return user


@transaction.atomic
def set_membership(actor, user: User, department: Department, role: str = Membership.Role.MEMBER) -> Membership:
    _require_admin(actor)
    refuse_archived(department, "department")
    if role not in Membership.Role.values:
        raise Invalid(
            fields={"role": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Membership.Role.values)}}
        )
    if user.is_service and role != Membership.Role.MEMBER:
        raise Invalid(fields={"role": _("A service account can only be a member.")})
    membership, created = Membership.objects.get_or_create(user=user, department=department, defaults={"role": role})
    before = None if created else membership.role
    if not created and membership.role != role:
        membership.role = role
        membership.save(update_fields=["role"])
    if created or before != role:
        forget(user)
        record(
            actor,
            "membership.set",
            user,
            departments=[department],
            details={"department": department.pk, "role": role, "previous_role": before},
        )
    return membership


@transaction.atomic
def remove_membership(actor, user: User, department: Department) -> None:
    _require_admin(actor)
    deleted, _count = Membership.objects.filter(user=user, department=department).delete()
    if not deleted:
        raise NotFound()
    forget(user)
    record(actor, "membership.removed", user, departments=[department], details={"department": department.pk})


@transaction.atomic
def create_service_account(actor, *, department: Department, username: str, display_name: str = "") -> User:
    """A non-person caller (ERP, a tax system) owned by a department; it signs in only with tokens."""
    _require_admin(actor)
    refuse_archived(department, "department")
    user = create_person(actor, username=username, display_name=display_name)
    user.kind = User.Kind.SERVICE
    user.service_owner = department
    user.save(update_fields=["kind", "service_owner"])
    Membership.objects.create(user=user, department=department, role=Membership.Role.MEMBER)
    record(actor, "service_account.created", user, departments=[department], details={"username": user.username})
    return user


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _token_days(days) -> int:
    longest = settings.TOKEN_MAX_DAYS
    if days is None or days == "":
        return min(settings.TOKEN_DAYS, longest)
    text = str(days).strip()
    if not text.isdigit() or not 1 <= int(text) <= longest:
        raise Invalid(fields={"days": _("Give a number of days from 1 to %(n)s.") % {"n": longest}})
    return int(text)


@transaction.atomic
def issue_token(
    actor, user: User, name: str, *, scopes=token_scopes.EVERYTHING, days: int | str | None = None
) -> tuple[ApiToken, str]:
    """Make a token; returns it and the secret, which is never shown again. It lasts `days` (the site's
    SHAREHUB_TOKEN_DAYS when not given, at most SHAREHUB_TOKEN_MAX_DAYS) and may do what its `scopes` allow
    (sharehub.org.scopes), within what its owner may."""
    own = actor is not None and getattr(actor, "pk", None) == user.pk
    if not own:
        _require_admin(actor)
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _("A token needs a name of at most 100 characters.")
    if not user.is_active:
        errors["user"] = _("This account is deactivated.")
    try:
        scopes = token_scopes.clean(scopes)
    except Invalid as error:
        errors.update(error.fields)
    try:
        days = _token_days(days)
    except Invalid as error:
        errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = timezone.now() + timedelta(days=days)
    token = ApiToken.objects.create(
        user=user, name=name, prefix=raw[:12], digest=_digest(raw), scopes=scopes, expires_at=expires_at
    )
    record(
        actor,
        "token.issued",
        user,
        details={
            "token": token.pk,
            "name": name,
            "prefix": token.prefix,
            "scopes": scopes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return token, raw


@transaction.atomic
def revoke_token(actor, token: ApiToken) -> ApiToken:
    own = actor is not None and getattr(actor, "pk", None) == token.user_id
    if not own:
        _require_admin(actor)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        record(
            actor, "token.revoked", token.user, details={"token": token.pk, "name": token.name, "prefix": token.prefix}
        )
    return token


class TokenRefused(Exception):
    """Why a bearer token does not sign anyone in, in words for its sender (the API answers 401 with it)."""


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None. Notes the last use (at most once a minute)."""
    try:
        return token_user(raw)[0]
    except TokenRefused:
        return None


def token_user(raw: str) -> tuple[User, list[str]]:
    """The user a bearer token signs in and the token's scopes; TokenRefused saying why not (unknown,
    revoked, expired, its account deactivated). Notes the last use (at most once a minute)."""
    if not raw or not raw.startswith(TOKEN_PREFIX):
        raise TokenRefused(_("This is not a Sharehub token; they start with %(prefix)s.") % {"prefix": TOKEN_PREFIX})
    found = _TOKEN_USER.rows(digest=_digest(raw))
    if not found:
        raise TokenRefused(_("This token is not known; it may have been mistyped or deleted."))
    token_id, last_used_at, revoked_at, expires_at, scopes, *user_values = found[0]
    now = timezone.now()
    if revoked_at is not None:
        raise TokenRefused(_("This token was revoked on %(when)s.") % {"when": _when(revoked_at)})
    if expires_at is not None and expires_at <= now:
        raise TokenRefused(_("This token expired on %(when)s; make a new one.") % {"when": _when(expires_at)})
    user = User.from_db(DEFAULT_DB_ALIAS, _USER_FIELDS, user_values)
    if not user.is_active:
        raise TokenRefused(_("The account of this token is deactivated."))
    if last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token_id).update(last_used_at=now)
    return user, scopes if isinstance(scopes, list) else []


def announce_expiring_tokens(now=None) -> int:
    """Tell the owner of each token that ends within TOKEN_WARN_DAYS, once (a `token.expiring` event naming
    them; for a service account's token, the stewards and heads of its department). Returns how many."""
    now = now or timezone.now()
    due = ApiToken.objects.filter(
        revoked_at__isnull=True,
        expiry_announced_at__isnull=True,
        expires_at__gt=now,
        expires_at__lte=now + timedelta(days=settings.TOKEN_WARN_DAYS),
        user__is_active=True,
    ).values_list("pk", flat=True)
    return sum(_announce_expiring(token_id, now) for token_id in list(due[:1000]))


@transaction.atomic
def _announce_expiring(token_id: int, now) -> int:
    token = ApiToken.objects.select_for_update().select_related("user").get(pk=token_id)
    if token.expiry_announced_at is not None or token.revoked_at is not None:
        return 0  # another worker told them meanwhile, or it was revoked
    token.expiry_announced_at = now
    token.save(update_fields=["expiry_announced_at"])
    owner = token.user
    recipients = reviewer_ids(owner.service_owner_id) if owner.is_service and owner.service_owner_id else [owner.pk]
    record(
        None,
        "token.expiring",
        owner,
        departments=[owner.service_owner_id] if owner.service_owner_id else [],
        details={
            "token": token.pk,
            "name": token.name,
            "prefix": token.prefix,
            "owner": owner.username,
            "owner_is_service": owner.is_service,
            "expires_at": token.expires_at.isoformat(),
            "recipients": sorted(set(recipients)),
        },
    )
    return 1


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


_USER_FIELDS = [f.attname for f in User._meta.concrete_fields]
# Read on every API request: compiled once (sharehub.db.prepared); the user comes whole, as select_related gives it.
_TOKEN_USER = PreparedRead(
    lambda digest: (
        ApiToken.objects.filter(digest=digest)
        .order_by()
        .values_list(
            "pk", "last_used_at", "revoked_at", "expires_at", "scopes", *(f"user__{name}" for name in _USER_FIELDS)
        )[:1]
    ),
    digest=str,
)


@transaction.atomic
def change_password(actor: User, old_password: str, new_password: str) -> None:
    errors = {}
    if not actor.check_password(old_password or ""):
        errors["old_password"] = _("The current password is not right.")
    try:
        validate_password(new_password or "", actor)
    except DjangoValidationError as error:
        errors["new_password"] = " ".join(error.messages)
    if errors:
        raise Invalid(fields=errors)
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    record(actor, "person.password_changed", actor)


@transaction.atomic
def unlock_sign_in(actor, username: str) -> int:
    """Lift the failed-sign-in pause for a username before it ends by itself; returns the number of
    cleared attempt records."""
    _require_admin(actor)
    from axes.utils import reset

    cleared = reset(username=username)
    if cleared:
        record(actor, "auth.unlocked", ("org.user", "", username[:150]), details={"username": username})
    return cleared


def set_language(actor, language: str) -> None:
    """The language a person reads Sharehub in, kept for what is sent to them (email)."""
    if actor.language != language:
        actor.language = language
        actor.save(update_fields=["language"])


# --- the console's service accounts and Django's admin (issue 14) -------------------------------------------


@transaction.atomic
def set_superuser(actor, user: User, is_superuser: bool = True) -> User:
    """Let an organization admin into Django's admin (policy: admin.site), or stop them. Only the operator at
    the command line (`actor=None`, `sharehub createadmin`) or a superuser who is an admin does this."""
    if actor is not None and not can(actor, OrgAction.ADMIN_SITE):
        raise Forbidden(_("Only superusers let someone into Django's administration."))
    if is_superuser and (user.is_service or not user.is_org_admin):
        raise Invalid(fields={"is_superuser": _("Only an organization admin can be a superuser.")})
    if user.is_superuser != is_superuser:
        user.is_superuser = is_superuser
        user.save(update_fields=["is_superuser"])
        forget(user)
        record(actor, "person.superuser_set", user, details={"superuser": is_superuser})
    return user


def _service_account_department(department) -> Department:
    """The owning department chosen for a service account: an existing department not archived."""
    if not isinstance(department, Department) or department.archived_at is not None:
        raise Invalid(fields={"department": _("Choose a department that is not archived.")})
    return department


@transaction.atomic
def update_service_account(
    actor, account: User, *, display_name: str | None = None, department: Department | None = None
) -> User:
    """Rename a service account (update_person, a `person.updated` event) or give it another owning department
    (a `service_account.moved` event: its membership moves along, so it reads and writes for the new one)."""
    _require_admin(actor)
    if not account.is_service:
        raise NotFound()
    errors = {}
    if display_name is not None:
        display_name = display_name.strip()
        if len(display_name) > 120 or "\x00" in display_name:
            errors["display_name"] = _("At most %(n)s characters.") % {"n": 120}
    if department is not None:
        try:
            _service_account_department(department)
        except Invalid as error:
            errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    if display_name is not None and display_name != account.display_name:
        update_person(actor, account, display_name=display_name)
    if department is not None and department.pk != account.service_owner_id:
        previous = account.service_owner_id
        if previous is not None:
            Membership.objects.filter(user=account, department_id=previous).delete()
        Membership.objects.get_or_create(user=account, department=department, defaults={"role": Membership.Role.MEMBER})
        account.service_owner = department
        account.save(update_fields=["service_owner"])
        forget(account)
        record(
            actor,
            "service_account.moved",
            account,
            departments=[d for d in (previous, department.pk) if d is not None],
            details={"department": department.pk, "previous_department": previous},
        )
    return account


# --- the people console (sharehub.org.manage.people) ------------------------------------------------------


@transaction.atomic
def set_person_language(actor, user: User, language: str) -> User:
    """An admin sets the language someone is written to in (email); "" is the site's default."""
    _require_admin(actor)
    if language not in ("", *dict(settings.LANGUAGES)):
        raise Invalid(fields={"language": _("Choose one of the languages offered.")})
    if user.language != language:
        user.language = language
        user.save(update_fields=["language"])
        record(actor, "person.updated", user, details={"language": language})
    return user


def admin_role_refusal(actor, user: User, *, is_org_admin: bool | None) -> str:
    """Why taking away `user`'s admin role is refused ("" when it is not): not one's own, not the last active
    admin's."""
    if is_org_admin is not False or not user.is_org_admin:
        return ""
    if actor is not None and getattr(actor, "pk", None) == user.pk:
        return _("You cannot remove your own admin role; another admin can.")
    others = User.objects.filter(is_org_admin=True, is_active=True, kind=User.Kind.PERSON).exclude(pk=user.pk)
    if user.is_active and not others.exists():
        return _("%(name)s is the last active admin; make someone else admin first.") % {"name": user}
    return ""


@transaction.atomic
def change_org_roles(actor, user: User, *, is_org_admin: bool | None = None, is_auditor: bool | None = None) -> User:
    """set_org_roles for the pages, refusing to take away one's own admin role or the last admin's."""
    _require_admin(actor)
    why = admin_role_refusal(actor, user, is_org_admin=is_org_admin)
    if why:
        raise Invalid(fields={"is_org_admin": why})
    return set_org_roles(actor, user, is_org_admin=is_org_admin, is_auditor=is_auditor)


class BulkRefused(Invalid):
    """A bulk change refused for some of the people (`people`: id -> why); nothing was changed."""

    def __init__(self, people: dict[int, str]):
        self.people = people
        super().__init__(_("Nothing was changed: some of the people cannot take this change."), fields={"ids": ""})


BULK_ACTIONS = ("add", "set_role", "remove", "make_auditor", "unmake_auditor", "deactivate", "reactivate")


def _bulk_one(actor, user: User, action: str, department: Department | None, role: str, memberships: dict) -> None:
    """One person's part of a bulk change, through the usual services; Invalid/NotFound/Conflict say why not."""
    if action == "add":
        if department.pk not in memberships.get(user.pk, {}):
            set_membership(actor, user, department, role)
    elif action == "set_role":
        if department.pk not in memberships.get(user.pk, {}):
            raise Invalid(fields={"department": _("Not a member of %(department)s.") % {"department": department}})
        set_membership(actor, user, department, role)
    elif action == "remove":
        if department.pk not in memberships.get(user.pk, {}):
            raise Invalid(fields={"department": _("Not a member of %(department)s.") % {"department": department}})
        remove_membership(actor, user, department)
    elif action in ("make_auditor", "unmake_auditor"):
        set_org_roles(actor, user, is_auditor=action == "make_auditor")
    elif action == "reactivate":
        if not user.is_active:
            update_person(actor, user, is_active=True)
    elif action == "deactivate" and user.is_active:
        from sharehub.org import handover

        why = handover.refusal(actor, user)
        if why:
            raise Invalid(fields={"ids": why})
        handover.leave(actor, user, reason=_("%(name)s was deactivated by an admin.") % {"name": user})


def bulk_change_people(
    actor, people: list[User], action: str, *, department: Department | None = None, role: str = ""
) -> int:
    """Apply one change to several people in ONE transaction: to all of them, each with its own event, or
    to none (BulkRefused naming each person it cannot apply to, and why). Deactivation refuses people who
    hold something a successor must take over (the handover wizard is for them). Returns how many."""
    _require_admin(actor)
    errors = {}
    if action not in BULK_ACTIONS:
        errors["action"] = _("Choose what to do.")
    if action in ("add", "set_role", "remove") and department is None:
        errors["department"] = _("Choose a department.")
    if action in ("add", "set_role") and role not in Membership.Role.values:
        errors["role"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Membership.Role.values)}
    if not people:
        errors["ids"] = _("Tick at least one person.")
    if errors:
        raise Invalid(fields=errors)
    memberships: dict[int, dict[int, str]] = {}
    for user_id, department_id, member_role in Membership.objects.filter(
        user_id__in=[u.pk for u in people]
    ).values_list("user_id", "department_id", "role"):
        memberships.setdefault(user_id, {})[department_id] = member_role
    refused: dict[int, str] = {}
    if action == "deactivate":
        from sharehub.org import handover

        for user_id in handover.people_holding([u.pk for u in people if u.is_active]):
            refused[user_id] = _("Holds what a successor must take over: deactivate them with the handover.")
    with transaction.atomic():
        for user in people:
            if user.pk in refused:
                continue
            try:
                with transaction.atomic():
                    _bulk_one(actor, user, action, department, role, memberships)
            except (Invalid, NotFound, Forbidden) as error:
                detail = " ".join(str(v) for v in error.fields.values() if v) if isinstance(error, Invalid) else ""
                refused[user.pk] = detail or str(error.message)
        if not refused and action == "deactivate":
            refused = _left_unmanaged(people, memberships)
        if (
            not refused
            and action == "deactivate"
            and not User.objects.filter(is_org_admin=True, is_active=True, kind=User.Kind.PERSON).exists()
        ):
            refused = {u.pk: _("No active admin would be left.") for u in people if u.is_org_admin}
        if refused:
            raise BulkRefused(refused)
    return len(people)


def _left_unmanaged(people: list[User], memberships: dict[int, dict[int, str]]) -> dict[int, str]:
    """After a bulk deactivation (inside its transaction): the people whose leaving together left a department
    with no active steward or no active head, where it had one among them (each alone was not the only one)."""
    managers = (Membership.Role.STEWARD, Membership.Role.HEAD)
    held = {
        (department_id, role)
        for user in people
        for department_id, role in memberships.get(user.pk, {}).items()
        if role in managers
    }
    if not held:
        return {}
    still = set(
        Membership.objects.filter(
            department_id__in={d for d, _r in held}, role__in=managers, user__is_active=True
        ).values_list("department_id", "role")
    )
    emptied = held - still
    names = dict(Department.objects.filter(pk__in={d for d, _r in emptied}).values_list("pk", "name"))
    refused = {}
    for user in people:
        lost = sorted(names[d] for d, r in emptied if memberships.get(user.pk, {}).get(d) == r)
        if lost:
            refused[user.pk] = _(
                "Together they would leave %(departments)s without a steward or head: deactivate them with the "
                "handover."
            ) % {"departments": _(", ").join(lost)}
    return refused


# --- the department tree (issue 14): archived departments take nothing new ----------------------------------


def refuse_archived(department: Department | None, field_name: str) -> None:
    """Invalid naming `field_name` when `department` is archived (sharehub.org.tree): archived departments get
    no new members, sub-departments, service accounts or resources."""
    if department is not None and department.archived_at is not None:
        raise Invalid(
            fields={field_name: _("%(dept)s is archived; choose a department in use.") % {"dept": department.name}}
        )
