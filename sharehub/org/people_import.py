"""Importing people from a CSV or XLSX file, in three steps:

1. `read_table` reads the file into rows of text (no database, no transaction: invariant 8);
2. `check_table` compares each row with the organization (reads only) and decides its action (create,
   update, unchanged) or its errors, field by field; `save_preview` keeps the result as a PeopleImport in
   status preview, which the page and the CLI show;
3. `apply_import` writes every valid row through the org services in one transaction, or nothing, and says
   why; `discard_import` drops a preview.

A row adds and updates, it never takes away: an empty cell leaves the stored value alone, and departments
the file does not name keep their memberships. New people get no usable password: they sign in through the
directory (linked by login name) or an admin sets one.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.errors import Conflict, Forbidden, Invalid, ServiceError, TooLarge, is_database_busy
from sharehub.events.services import record
from sharehub.org import services
from sharehub.org.models import Department, Membership, PeopleImport, User
from sharehub.policy.engine import OrgAction, can

log = logging.getLogger(__name__)

MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 500  # applied through the org services, ~20 statements a person, in one transaction (kept short)
MAX_COLUMNS = 50
MAX_SHOWN = 300  # characters of a cell kept in the preview
FORMATS = ("csv", "xlsx")
DELIMITERS = (",", ";", "\t", "|")
ENCODINGS = ("utf-8-sig", "gb18030")  # Excel in Chinese saves "CSV" as GBK; GB18030 is its superset

# The columns, in the template's order, with their headings in the two languages of the template.
COLUMNS = ("username", "display_name", "email", "department", "role", "org_roles", "active")
HEADINGS_ZH = {"username": "用户名", "display_name": "姓名", "email": "邮箱", "department": "部门", "role": "角色",
               "org_roles": "组织角色", "active": "启用"}  # fmt: skip
_ALIASES = {
    "username": ("username", "user", "login", "loginname", "account", "用户名", "账号", "帐号", "登录名", "用户"),
    "display_name": ("displayname", "name", "fullname", "姓名", "名字", "显示名", "显示名称"),
    "email": ("email", "mail", "emailaddress", "邮箱", "电子邮箱", "电子邮件", "邮件", "邮箱地址"),
    "department": ("department", "departments", "dept", "部门", "所属部门"),
    "role": ("role", "departmentrole", "角色", "部门角色"),
    "org_roles": ("orgroles", "orgrole", "organizationroles", "organizationrole", "组织角色", "系统角色"),
    "active": ("active", "isactive", "enabled", "启用", "是否启用", "在职", "状态"),
}
HEADERS = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

ROLE_WORDS = {"member": "member", "成员": "member", "steward": "steward", "资源管理员": "steward", "head": "head",
              "负责人": "head"}  # fmt: skip
ORG_ROLE_WORDS = {"admin": "admin", "administrator": "admin", "系统管理员": "admin", "auditor": "auditor",
                  "审计员": "auditor"}  # fmt: skip
NO_ROLES = {"none", "-", "无", "—"}
TRUE_WORDS = {"1", "true", "yes", "y", "active", "是", "启用", "在职", "有效"}
FALSE_WORDS = {"0", "false", "no", "n", "inactive", "否", "停用", "离职", "禁用", "无效"}
LIST_SPLIT = re.compile(r"[;；]")
ROLES_SPLIT = re.compile(r"[;；,，、\s]+")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

ACTIONS = ("error", "create", "update", "unchanged")  # the preview's order: errors first


def _norm(heading: str) -> str:
    return re.sub(r"[\s_\-（）()]", "", str(heading)).lower()


# ---- 1. reading the file (no database) ----------------------------------------------------------------------


@dataclass
class Table:
    columns: list[str]  # the columns recognised, in the file's order
    ignored: list[str]  # headings not recognised, as written
    rows: list[tuple[int, dict[str, str]]]  # (line as the spreadsheet numbers it, column → text)


def _file_error(message: str) -> Invalid:
    return Invalid(message, fields={"file": message})


def read_table(data: bytes, file_name: str = "", kind: str | None = None) -> Table:
    """The rows of a CSV or XLSX file as text; Invalid (422) naming the reason when the file is empty, has no
    header naming a username column, is neither CSV nor XLSX, or holds more than MAX_ROWS rows; TooLarge
    (413) over MAX_BYTES."""
    if len(data) > MAX_BYTES:
        message = _("The file is larger than %(n)s MB; split it into smaller files.") % {"n": MAX_BYTES // 2**20}
        raise TooLarge(message, fields={"file": message})
    if not data.strip(b" \t\r\n\xef\xbb\xbf"):
        raise _file_error(_("The file is empty."))
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if kind is None:
        if data.startswith(b"PK\x03\x04") or suffix == "xlsx":
            kind = "xlsx"
        elif data.startswith(b"\xd0\xcf\x11\xe0"):
            raise _file_error(_("This is an old Excel (.xls) workbook; save it as .xlsx or CSV."))
        elif suffix in ("", "csv", "txt", "tsv"):
            kind = "csv"
        else:
            raise _file_error(_("Upload a CSV or XLSX file (.csv or .xlsx)."))
    records = _xlsx_records(data) if kind == "xlsx" else _csv_records(data)
    return _table(records)


def _csv_records(data: bytes) -> Iterator[list[str]]:
    for encoding in ENCODINGS:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise _file_error(_("This is not a CSV file: it is neither UTF-8 nor GBK/GB18030 text."))
    if "\x00" in text:
        raise _file_error(_("This is not a CSV file: it holds binary data."))
    first_line = text.lstrip("\r\n").split("\n", 1)[0]
    delimiter = _delimiter(first_line)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for values in reader:
            yield [value.strip() for value in values[:MAX_COLUMNS]]
    except csv.Error as error:
        message = _("The CSV file cannot be read near line %(line)s (%(error)s).")
        raise _file_error(message % {"line": reader.line_num, "error": error}) from None


def _delimiter(first_line: str) -> str:
    """The delimiter that makes the most known headings of the header line, else what csv.Sniffer sees."""

    def known(delimiter: str) -> int:
        try:
            cells = next(csv.reader([first_line], delimiter=delimiter), [])
        except csv.Error:
            return 0
        return len({HEADERS[_norm(c)] for c in cells if _norm(c) in HEADERS})

    best = max(DELIMITERS, key=known)
    if known(best):
        return best
    try:
        return csv.Sniffer().sniff(first_line, delimiters="".join(DELIMITERS)).delimiter
    except csv.Error:
        return ","


def _xlsx_records(data: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError):
        raise _file_error(_("This is not an XLSX workbook; save it as .xlsx or CSV.")) from None
    limit = settings.EXTRACT_MAX_UNCOMPRESSED_BYTES
    if unpacked > limit:
        message = _("The workbook unpacks to more than %(n)s MB; split it.") % {"n": limit // 2**20}
        raise TooLarge(message, fields={"file": message})
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged or foreign file
        raise _file_error(_("This is not an XLSX workbook; save it as .xlsx or CSV.")) from None
    try:
        sheet = book.worksheets[0] if book.worksheets else None
        if sheet is None:
            raise _file_error(_("The workbook has no sheet."))
        for values in sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS):
            yield [_cell_text(value) for value in values]
    finally:
        book.close()


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return str(value).strip()


def _table(records: Iterable[list[str]]) -> Table:
    records = iter(records)
    header: list[str] | None = None
    line = 0
    for values in records:
        line += 1
        if any(values):
            header = values
            break
    if header is None:
        raise _file_error(_("The file is empty."))
    columns, ignored, seen = [], [], set()
    for heading in header:
        name = HEADERS.get(_norm(heading), "")
        if name in seen:
            name = ""  # the first column of a name counts
        if not name and heading:
            ignored.append(heading[:60])
        seen.add(name)
        columns.append(name)
    if "username" not in seen:
        message = _("The first row must name the columns, with a username (用户名) column; download the template.")
        raise _file_error(message)
    rows = []
    for values in records:
        line += 1
        if not any(values):
            continue
        if len(rows) >= MAX_ROWS:
            raise _file_error(_("The file has more than %(n)s people; split it into smaller files.") % {"n": MAX_ROWS})
        rows.append(
            (line, {name: values[i] for i, name in enumerate(columns) if name and i < len(values) and values[i]})
        )
    if not rows:
        raise _file_error(_("The file has a header but no people."))
    return Table(columns=[c for c in columns if c], ignored=ignored, rows=rows)


# ---- 2. checking the rows against the organization (reads) --------------------------------------------------

ERROR_TEXTS = {
    "required": gettext_lazy("A username is required."),
    "username_format": gettext_lazy("A username has at most 150 letters, digits or . @ + - _"),
    "duplicate": gettext_lazy("This username is also on line %(lines)s; a person may appear once."),
    "service_account": gettext_lazy("This is a service account; service accounts are not imported."),
    "control": gettext_lazy("The text holds control characters."),
    "too_long": gettext_lazy("At most %(n)s characters."),
    "email": gettext_lazy("Enter a valid email address."),
    "unknown_department": gettext_lazy("No department has the code or name %(names)s."),
    "archived_department": gettext_lazy("The department %(names)s is archived."),
    "merged_department": gettext_lazy("The department %(name)s was merged into %(into)s; name that one."),
    "unknown_role": gettext_lazy("Unknown role “%(value)s”; use member, steward or head (成员, 资源管理员, 负责人)."),
    "role_without_department": gettext_lazy("A role needs a department in the same row."),
    "unknown_org_role": gettext_lazy(
        "Unknown organization role “%(value)s”; use admin or auditor (系统管理员, 审计员), or none (无)."
    ),
    "active": gettext_lazy("Write yes or no (是 or 否), or leave it empty."),
    "self": gettext_lazy("You cannot take away your own admin role or deactivate yourself in an import."),
}


def error_text(code: str, params: dict | None = None) -> str:
    """A row error, stored as its code and values, in the reader's language."""
    template = ERROR_TEXTS.get(code)
    if template is None:
        return code
    return str(template) % (params or {}) if params else str(template)


@dataclass
class Checked:
    rows: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        return {action: self.summary.get(action, 0) for action in ACTIONS}


class _Organization:
    """The people named in the file and every department, read once (three queries whatever the file)."""

    def __init__(self, usernames: set[str]) -> None:
        people = (
            User.objects.annotate(lower_name=Lower("username"))
            .filter(lower_name__in=sorted(usernames))
            .prefetch_related("memberships")
        )
        self.people = {user.username.lower(): user for user in people} if usernames else {}
        self.by_code: dict[str, Department] = {}
        self.by_name: dict[str, Department] = {}
        for department in Department.objects.select_related("merged_into").order_by("pk"):
            self.by_code[department.code.lower()] = department
            self.by_name[department.name] = department

    def department(self, text: str) -> Department | None:
        return self.by_code.get(text.lower()) or self.by_name.get(text)


def _quoted(names: Iterable[str]) -> str:
    return _(", ").join(f"“{name}”" for name in names)


def _check_text(values: dict, errors: dict) -> None:
    for name in ("username", "display_name", "email"):
        if CONTROL.search(values.get(name, "")):
            errors[name] = ["control", {}]
    if "display_name" not in errors and len(values.get("display_name", "")) > 120:
        errors["display_name"] = ["too_long", {"n": 120}]
    email = values.get("email", "")
    if email and "email" not in errors:
        if len(email) > 254:
            errors["email"] = ["too_long", {"n": 254}]
        else:
            try:
                validate_email(email)
            except DjangoValidationError:
                errors["email"] = ["email", {}]


def _check_departments(values: dict, org: _Organization, errors: dict) -> list[Department]:
    names = list(dict.fromkeys(n.strip() for n in LIST_SPLIT.split(values.get("department", "")) if n.strip()))
    found, unknown, archived = [], [], []
    for name in names:
        department = org.department(name)
        if department is None:
            unknown.append(name)
        elif department.merged_into_id:
            errors.setdefault(
                "department", ["merged_department", {"name": f"“{name}”", "into": f"“{department.merged_into.name}”"}]
            )
        elif department.archived_at is not None:
            archived.append(name)
        else:
            found.append(department)
    if unknown:
        errors["department"] = ["unknown_department", {"names": _quoted(unknown)}]
    elif archived:
        errors.setdefault("department", ["archived_department", {"names": _quoted(archived)}])
    return found


def _check_roles(values: dict, errors: dict) -> tuple[str | None, bool | None, bool | None, bool | None]:
    role = None
    if values.get("role"):
        role = ROLE_WORDS.get(values["role"].lower())
        if role is None:
            errors["role"] = ["unknown_role", {"value": values["role"][:40]}]
        elif not values.get("department"):
            errors["role"] = ["role_without_department", {}]
    admin = auditor = None
    if values.get("org_roles"):
        words = [w for w in ROLES_SPLIT.split(values["org_roles"].lower()) if w]
        if all(w in NO_ROLES for w in words):
            admin = auditor = False
        else:
            unknown = [w for w in words if w not in ORG_ROLE_WORDS]
            if unknown:
                errors["org_roles"] = ["unknown_org_role", {"value": unknown[0][:40]}]
            else:
                held = {ORG_ROLE_WORDS[w] for w in words}
                admin, auditor = "admin" in held, "auditor" in held
    active = None
    if values.get("active"):
        word = values["active"].lower()
        if word in TRUE_WORDS:
            active = True
        elif word in FALSE_WORDS:
            active = False
        else:
            errors["active"] = ["active", {}]
    return role, admin, auditor, active


def _row(line: int, values: dict, org: _Organization, actor, duplicates: dict[str, list[int]]) -> dict:
    errors: dict[str, list] = {}
    username = values.get("username", "")
    user = None
    if not username:
        errors["username"] = ["required", {}]
    elif not services.USERNAME.fullmatch(username):
        errors["username"] = ["username_format", {}]
    elif len(duplicates.get(username.lower(), ())) > 1:
        others = [str(n) for n in duplicates[username.lower()] if n != line]
        errors["username"] = ["duplicate", {"lines": ", ".join(others)}]
    else:
        user = org.people.get(username.lower())
        if user is not None and user.is_service:
            errors["username"] = ["service_account", {}]
    _check_text(values, errors)
    departments = _check_departments(values, org, errors)
    role, admin, auditor, active = _check_roles(values, errors)
    is_self = user is not None and actor is not None and user.pk == getattr(actor, "pk", None)
    if is_self and (active is False or (admin is False and user.is_org_admin)):
        errors.setdefault("org_roles" if active is not False else "active", ["self", {}])
    held = {m.department_id: m.role for m in user.memberships.all()} if user is not None else {}
    memberships = [[d.pk, role or held.get(d.pk) or Membership.Role.MEMBER] for d in departments]
    changes = []
    if user is not None:
        for name, current in (("display_name", user.display_name), ("email", user.email)):
            if values.get(name) and values[name] != current:
                changes.append(name)
        if any(held.get(pk) != wanted for pk, wanted in memberships):
            changes.append("department")
        if (admin is not None and admin != user.is_org_admin) or (auditor is not None and auditor != user.is_auditor):
            changes.append("org_roles")
        if active is not None and active != user.is_active:
            changes.append("active")
    if errors:
        action = "error"
    elif user is None:
        action = "create"
    else:
        action = "update" if changes else "unchanged"
    return {
        "line": line,
        "values": {name: value[:MAX_SHOWN] for name, value in values.items()},
        "departments": [d.name for d in departments],
        "action": action,
        "errors": errors,
        "user": user.pk if user is not None else None,
        "memberships": memberships,
        "admin": admin,
        "auditor": auditor,
        "active": active,
        "changes": changes,
    }


def check_table(actor, table: Table) -> Checked:
    """Each row's action (create, update, unchanged) or its errors by field, and the counts. Reads only."""
    duplicates: dict[str, list[int]] = {}
    for line, values in table.rows:
        if values.get("username"):
            duplicates.setdefault(values["username"].lower(), []).append(line)
    org = _Organization({name for name, lines in duplicates.items() if len(lines) == 1})
    rows = [_row(line, values, org, actor, duplicates) for line, values in table.rows]
    summary: dict[str, Any] = dict.fromkeys(ACTIONS, 0)
    for row in rows:
        summary[row["action"]] += 1
    summary.update(rows=len(rows), columns=table.columns, ignored=table.ignored)
    return Checked(rows=rows, summary=summary)


def _require_manager(actor) -> None:
    decision = can(actor, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)


def _target(people_import: PeopleImport) -> tuple[str, int, str]:
    return ("org.peopleimport", people_import.pk, people_import.file_name)


def _counts(summary: dict) -> dict[str, int]:
    return {action: int(summary.get(action, 0)) for action in ACTIONS}


@transaction.atomic
def save_preview(actor, file_name: str, checked: Checked) -> PeopleImport:
    """Keep a checked file as an import in preview (one `org.people_import_checked` event)."""
    _require_manager(actor)
    file_name = CONTROL.sub("", (file_name or "").replace("\\", "/").rsplit("/", 1)[-1]).strip()[:255] or "people"
    people_import = PeopleImport.objects.create(
        created_by=actor, file_name=file_name, rows=checked.rows, summary=checked.summary
    )
    record(
        actor,
        "org.people_import_checked",
        _target(people_import),
        details={"file_name": file_name, **_counts(checked.summary)},
    )
    return people_import


def preview_upload(actor, data: bytes, file_name: str, kind: str | None = None) -> PeopleImport:
    """Read, check and keep an uploaded file as a preview; the reading and checking happen before the one
    short write transaction."""
    _require_manager(actor)
    table = read_table(data, file_name, kind)
    return save_preview(actor, file_name, check_table(actor, table))


# ---- 3. applying or discarding ------------------------------------------------------------------------------


class _RowFailed(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(message)


def _apply_row(actor, row: dict, users: dict[int, User], departments: dict[int, Department]) -> None:
    values = row["values"]
    if row["action"] == "create":
        user = services.create_person(
            actor,
            username=values["username"],
            display_name=values.get("display_name", ""),
            email=values.get("email", ""),
            is_org_admin=bool(row["admin"]),
            is_auditor=bool(row["auditor"]),
        )
        if row["active"] is False:
            services.update_person(actor, user, is_active=False)
    else:
        user = users.get(row["user"])
        if user is None or user.is_service:
            raise _RowFailed(row["line"], _("%(username)s no longer exists.") % {"username": values["username"]})
        profile = {name: values[name] for name in ("display_name", "email") if values.get(name)}
        if row["active"] is not None:
            profile["is_active"] = row["active"]
        if profile:
            services.update_person(actor, user, **profile)
        if row["admin"] is not None or row["auditor"] is not None:
            services.set_org_roles(actor, user, is_org_admin=row["admin"], is_auditor=row["auditor"])
    for department_id, role in row["memberships"]:
        department = departments.get(department_id)
        if department is None or department.archived_at is not None or department.merged_into_id:
            message = _("A department of this row was archived or removed since the preview.")
            raise _RowFailed(row["line"], message)
        services.set_membership(actor, user, department, role)


def _fail(actor, people_import: PeopleImport, reason: str, line: int | None) -> None:
    with transaction.atomic():
        summary = {**people_import.summary, "reason": reason, "failed_line": line}
        changed = PeopleImport.objects.filter(pk=people_import.pk, status=PeopleImport.Status.PREVIEW).update(
            status=PeopleImport.Status.FAILED, summary=summary
        )
        if changed:
            record(
                actor,
                "org.people_import_failed",
                _target(people_import),
                details={"file_name": people_import.file_name, "reason": reason, "line": line},
            )


def apply_import(actor, people_import: PeopleImport) -> PeopleImport:
    """Write every valid row of a preview through the org services in one transaction, skipping the rows with
    errors; if any row fails, nothing is written and the import is marked failed with the reason. The status
    moves from preview to applying with a conditional update inside that transaction, so an import pressed
    twice (two admins at once) is applied once; the second gets Conflict."""
    _require_manager(actor)
    if people_import.status != PeopleImport.Status.PREVIEW:
        raise Conflict(_("This import is no longer a preview (it is %(status)s).")
                       % {"status": people_import.get_status_display()})  # fmt: skip
    valid = [row for row in people_import.rows if row.get("action") in ("create", "update", "unchanged")]
    if not valid:
        raise Invalid(fields={"rows": _("No row can be imported; correct the errors and upload the file again.")})
    try:
        with transaction.atomic():
            moved = PeopleImport.objects.filter(pk=people_import.pk, status=PeopleImport.Status.PREVIEW).update(
                status=PeopleImport.Status.APPLYING
            )
            if not moved:
                raise Conflict(_("This import was applied or discarded meanwhile."))
            users = User.objects.in_bulk([row["user"] for row in valid if row.get("user")])
            wanted = {pk for row in valid for pk, _role in row["memberships"]}
            departments = Department.objects.in_bulk(wanted)
            for row in valid:
                if row["action"] == "unchanged":
                    continue
                try:
                    _apply_row(actor, row, users, departments)
                except ServiceError as error:
                    reasons = "; ".join(f"{name}: {text}" for name, text in error.fields.items())
                    raise _RowFailed(row["line"], reasons or str(error.message)) from None
            now = timezone.now()
            counts = _counts(people_import.summary)
            summary = {**people_import.summary, "applied_by": str(actor)}
            PeopleImport.objects.filter(pk=people_import.pk).update(
                status=PeopleImport.Status.APPLIED, applied_at=now, summary=summary
            )
            record(
                actor,
                "org.people_imported",
                _target(people_import),
                details={
                    "file_name": people_import.file_name,
                    "created": counts["create"],
                    "updated": counts["update"],
                    "unchanged": counts["unchanged"],
                    "skipped": counts["error"],
                },
            )
    except Conflict:
        raise
    except _RowFailed as failure:
        reason = _("Line %(line)s: %(reason)s") % {"line": failure.line, "reason": failure.message}
        _fail(actor, people_import, reason, failure.line)
    except Exception as error:
        if is_database_busy(error):
            raise
        log.exception("people import %s failed", people_import.pk)
        _fail(actor, people_import, _("An unexpected error stopped the import (%(error)s).")
              % {"error": type(error).__name__}, None)  # fmt: skip
    people_import.refresh_from_db()
    return people_import


@transaction.atomic
def discard_import(actor, people_import: PeopleImport) -> PeopleImport:
    """Drop a preview: it stays listed, as discarded, and can no longer be applied."""
    _require_manager(actor)
    moved = PeopleImport.objects.filter(pk=people_import.pk, status=PeopleImport.Status.PREVIEW).update(
        status=PeopleImport.Status.DISCARDED
    )
    if not moved:
        raise Conflict(_("Only an import in preview can be discarded."))
    record(actor, "org.people_import_discarded", _target(people_import), details={"file_name": people_import.file_name})
    people_import.refresh_from_db()
    return people_import


# ---- for the pages ------------------------------------------------------------------------------------------


def ordered_rows(people_import: PeopleImport, show: str = "") -> list[dict]:
    """The rows, errors first then by line; only those of one action when `show` is one of ACTIONS."""
    rows = [row for row in people_import.rows if not show or row.get("action") == show]
    order = {action: i for i, action in enumerate(ACTIONS)}
    return sorted(rows, key=lambda row: (order.get(row.get("action"), 0), row.get("line", 0)))


TEMPLATE_CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def template_file(kind: str, chinese: bool) -> bytes:
    """The header row only, in Chinese or English (the import reads both)."""
    header = [HEADINGS_ZH[name] if chinese else name for name in COLUMNS]
    if kind == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(title="people")
        sheet.append(header)
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    return ("\ufeff" + ",".join(header) + "\r\n").encode("utf-8")  # the BOM lets Excel read UTF-8


def template_response(fmt: str):
    """The template as a download, with its header in the reader's language (Chinese or English)."""
    from django.http import HttpResponse
    from django.utils.translation import get_language

    chinese = (get_language() or "").lower().startswith("zh")
    response = HttpResponse(template_file(fmt, chinese), content_type=TEMPLATE_CONTENT_TYPES[fmt])
    name = "people-import" + ("-zh" if chinese else "")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
