"""Inbound webhooks: an address per service account that a system able only to send webhooks (a project
tool, a CRM) posts its own JSON to. Each field of what Sharehub writes is a template over that JSON:
`{issue.title}` is the value at that path (`{commits.0.message}` indexes a list), `{{` and `}}` are
braces, anything else is kept as written. A post becomes a progress entry of a project, a resource
created for a new key and updated for a known one (published where the account may publish, else sent to
the department's review), or a record of a dataset inserted or updated by its record key (the fields of
the dataset's schema, each a template; fields not mapped keep their stored values), written by the
service account under the policy."""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.api import error_body
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Project, Resource
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound, ServiceError
from sharehub.events.services import record
from sharehub.exchange import services as exchange
from sharehub.feeds.models import InboundDelivery, InboundHook, InboundItem
from sharehub.org.models import User
from sharehub.policy.engine import Action, can
from sharehub.validation import text_problems

Hook = InboundHook.Action
FIELDS = ("key", "title", "summary", "body")
REQUIRED = {Hook.PROGRESS: ("title",), Hook.RESOURCE: ("key", "title")}
KINDS = ("notice", "document")
MAX_TEMPLATE = 2000
MAX_BODY_BYTES = 256 * 1024
TOKEN_PREFIX = "shin_"
# headers by which senders name a delivery, so that a retry of one that succeeded is not written twice
DELIVERY_HEADERS = ("Idempotency-Key", "webhook-id", "X-GitHub-Delivery", "X-Gitlab-Event-UUID", "X-Request-Id")
_PLACEHOLDER = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")
_PATH = re.compile(r"^[^.\s]+(\.[^.\s]+)*$")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _check_template(template: str) -> str:
    """The reason a template is not valid, or ""."""
    for match in _PLACEHOLDER.finditer(template):
        text = match.group(0)
        if text in ("{{", "}}"):
            continue
        if match.group(1) is None:
            return _("A lone brace: write {{ or }} for a brace itself.")
        if not _PATH.match(match.group(1).strip()):
            return _("“%(path)s” is not a path such as issue.title or commits.0.message.") % {"path": match.group(1)}
    return ""


def clean_mapping(
    action: str, mapping, record_fields: tuple[str, ...] = (), record_key: tuple[str, ...] = ()
) -> dict[str, str]:
    """The mapping's templates by field, checked. A records hook maps its dataset's `record_fields` instead
    of FIELDS, and must map each field of the `record_key`."""
    if not isinstance(mapping, dict):
        raise Invalid(fields={"mapping": _("Give each field a template.")})
    fields = record_fields if action == Hook.RECORDS else FIELDS
    errors, clean = {}, {}
    for name, template in mapping.items():
        if name not in fields:
            errors[str(name)[:64]] = _("Unknown field; the fields are %(fields)s.") % {"fields": ", ".join(fields)}
            continue
        template = template if isinstance(template, str) else ""
        if not template.strip():
            continue
        if len(template) > MAX_TEMPLATE:
            errors[name] = _("At most %(n)s characters.") % {"n": MAX_TEMPLATE}
        elif reason := _check_template(template):
            errors[name] = reason
        else:
            clean[name] = template
    if action == Hook.PROGRESS:
        clean.pop("key", None)
    required = record_key if action == Hook.RECORDS else REQUIRED.get(action, ())
    for name in required:
        if name not in clean and name not in errors:
            errors[name] = _("Required: a template such as {issue.title}.")
    if errors:
        raise Invalid(fields=errors)
    return clean


def parse_record_mapping(text: str) -> dict[str, str]:
    """A records hook's mapping as people type it in the page: one `field: template` a line."""
    mapping: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, colon, template = line.partition(":")
        if not colon or not name.strip():
            raise Invalid(fields={"records": _("Line %(n)s: write field: template.") % {"n": number}})
        if name.strip() in mapping:
            raise Invalid(
                fields={"records": _("Line %(n)s: %(field)s is mapped twice.") % {"n": number, "field": name.strip()}}
            )
        mapping[name.strip()] = template.strip()
    return mapping


def record_mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{name}: {template}" for name, template in mapping.items())


class MissingValue(Exception):
    def __init__(self, path: str) -> None:
        self.path = path


def _value_at(document, path: str):
    value = document
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise MissingValue(path)
    return value


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def fill(template: str, document) -> str:
    """The template with each {path} replaced by the text of the value there (MissingValue if none)."""

    def replace(match: re.Match) -> str:
        if match.group(0) in ("{{", "}}"):
            return match.group(0)[0]
        return _text(_value_at(document, match.group(1).strip()))

    return _PLACEHOLDER.sub(replace, template)


def _department_of(actor, account) -> User:
    if not isinstance(account, User):
        text = str(account)
        found = User.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) <= 18 else None
        if found is None:
            raise Invalid(fields={"account": _("No service account with this id.")})
        account = found
    if not account.is_service or account.service_owner_id is None:
        raise Invalid(fields={"account": _("Choose a service account: a person cannot be connected.")})
    decision = can(actor, "connect", account.service_owner)
    if not decision.allowed:
        raise Forbidden(decision.message)
    return account


def _dataset(action: str, dataset, account: User) -> tuple[Resource | None, tuple[str, ...], tuple[str, ...]]:
    """A records hook's dataset (of the account's department, with its record key set), its fields and
    the fields of its record key."""
    if action != Hook.RECORDS:
        return None, (), ()
    text = str(dataset or "")
    found = (
        Resource.objects.filter(pk=int(text), kind=Resource.Kind.DATASET).first()
        if text.isdigit() and len(text) <= 18
        else None
    )
    if found is None or found.owner_department_id != account.service_owner_id:
        raise Invalid(fields={"dataset": _("Choose a dataset of the service account's department.")})
    try:
        schema = exchange.writable_dataset(account, found)
    except Forbidden as error:
        raise Invalid(fields={"dataset": error.message}) from None
    except Invalid as error:
        raise Invalid(fields={"dataset": next(iter(error.fields.values()), error.message)}) from None
    names = tuple(schema.fields.order_by("position", "pk").values_list("name", flat=True))
    return found, names, tuple(name for name in schema.key_fields if name in names)


def _project(action: str, project, account: User) -> Project | None:
    if action != Hook.PROGRESS:
        return None
    text = str(project or "")
    found = Project.objects.filter(pk=int(text)).first() if text.isdigit() and len(text) <= 18 else None
    if found is None or found.department_id != account.service_owner_id:
        raise Invalid(fields={"project": _("Choose a project of the service account's department.")})
    return found


@transaction.atomic
def create_hook(actor, *, account, name: str, action: str, mapping, project=None, kind: str = "notice", dataset=None):
    """A new inbound hook and its secret token (shown once: only its digest is kept)."""
    account = _department_of(actor, account)
    errors = {}
    name = (name or "").strip()
    if not name or len(name) > 100:
        errors["name"] = _("A name of 1 to 100 characters.")
    if action not in Hook.values:
        errors["action"] = _("Choose one of %(values)s.") % {"values": ", ".join(Hook.values)}
    if action == Hook.RESOURCE and kind not in KINDS:
        errors["kind"] = _("Choose one of %(values)s.") % {"values": ", ".join(KINDS)}
    found_dataset, record_fields, record_key = None, (), ()
    try:
        found_dataset, record_fields, record_key = _dataset(action, dataset, account)
    except Invalid as error:
        errors.update(error.fields)
    try:
        if "dataset" not in errors:
            mapping = clean_mapping(action, mapping, record_fields, record_key)
    except Invalid as error:
        errors.update(error.fields)
    try:
        found_project = _project(action, project, account)
    except Invalid as error:
        errors.update(error.fields)
    if errors:
        raise Invalid(fields=errors)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    hook = InboundHook.objects.create(
        name=name,
        account=account,
        action=action,
        kind=kind if action == Hook.RESOURCE else Resource.Kind.DATASET if found_dataset else Resource.Kind.PROGRESS,
        project=found_project,
        dataset=found_dataset,
        mapping=mapping,
        prefix=token[: len(TOKEN_PREFIX) + 4],
        digest=_digest(token),
        created_at=timezone.now(),
        created_by=actor,
    )
    record(
        actor,
        "inbound.created",
        ("feeds.inboundhook", hook.pk, name),
        departments=[account.service_owner],
        details={"account": account.username, "action": action, "mapping": mapping},
    )
    return hook, token


def _managed(actor, hook: InboundHook) -> InboundHook:
    decision = can(actor, "connect", hook.account.service_owner)
    if not decision.allowed:
        raise NotFound()
    return hook


@transaction.atomic
def set_active(actor, hook: InboundHook, active: bool) -> InboundHook:
    _managed(actor, hook)
    if hook.active != active:
        hook.active = active
        hook.save(update_fields=["active"])
        record(
            actor,
            "inbound.turned_on" if active else "inbound.turned_off",
            ("feeds.inboundhook", hook.pk, hook.name),
            departments=[hook.account.service_owner],
        )
    return hook


@transaction.atomic
def delete_hook(actor, hook: InboundHook) -> None:
    _managed(actor, hook)
    record(
        actor, "inbound.deleted", ("feeds.inboundhook", hook.pk, hook.name), departments=[hook.account.service_owner]
    )
    hook.delete()


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict
    replayed: bool = False


def _delivery_id(headers) -> str:
    for name in DELIVERY_HEADERS:
        value = (headers.get(name) or "").strip()
        if value:
            return value[:255] if value.isprintable() else ""
    return ""


def _error(error: ServiceError) -> Answer:
    return Answer(error.status, error_body(error.code, error.message, error.fields))


def _values(hook: InboundHook, document) -> dict[str, str]:
    values, errors = {}, {}
    for name, template in hook.mapping.items():
        try:
            values[name] = fill(template, document)
        except MissingValue as missing:
            errors[name] = _("The JSON sent has no value at %(path)s.") % {"path": missing.path}
        except RecursionError:
            errors[name] = _("The value is nested too deeply to write as text.")
    errors.update(text_problems(values))  # NUL, lone surrogates: nothing a database can store
    if errors:
        raise Invalid(fields=errors)
    key = values.get("key", "").strip()
    if hook.action == Hook.RESOURCE and not key:
        raise Invalid(fields={"key": _("The key is empty for this post.")})
    if len(key) > 255:
        raise Invalid(fields={"key": _("The key is longer than 255 characters.")})
    return values


def _write_record(hook: InboundHook, values: dict[str, str]) -> tuple[Resource, Answer]:
    """Upsert one record of the hook's dataset: the dataset's own checks (types, required fields, the
    schema) apply; fields not mapped keep what is stored."""
    if hook.dataset is None:
        raise Invalid(fields={"dataset": _("The dataset of this hook was deleted; connect a dataset again.")})
    try:
        result = exchange.upsert(hook.account, hook.dataset, [values], via="inbound")
    except exchange.RowsInvalid as error:
        raise Invalid(error.message, fields={e.field or "row": e.reason for e in error.checked.errors}) from None
    body = {"dataset": hook.dataset.code, **{k: result.counts()[k] for k in ("inserted", "updated", "unchanged")}}
    return hook.dataset, Answer(201 if result.inserted else 200, body)


def _write(hook: InboundHook, values: dict[str, str]) -> tuple[Resource, Answer]:
    if hook.action == Hook.RECORDS:
        return _write_record(hook, values)
    resource, created = _write_resource(hook, values)
    return resource, Answer(
        201 if created else 200, {"resource": resource.code, "created": created, "status": resource.status}
    )


def _write_resource(hook: InboundHook, values: dict[str, str]) -> tuple[Resource, bool]:
    account = hook.account
    fields = {name: values[name] for name in ("title", "summary", "body") if name in values}
    if hook.action == Hook.RESOURCE:
        item = InboundItem.objects.select_for_update().filter(hook=hook, key=values["key"].strip()).first()
        if item is not None:
            note = _("Pushed through %(hook)s") % {"hook": hook.name}
            return catalog.update_resource(account, item.resource, fields, note=note), False
    if hook.action == Hook.PROGRESS and hook.project is None:
        raise Invalid(fields={"project": _("The project of this hook was deleted; connect a project again.")})
    department = hook.project.department if hook.action == Hook.PROGRESS else account.service_owner
    may_publish = can(account, Action.MANAGE, Resource(owner_department=department)).allowed
    extra = {"project": hook.project} if hook.action == Hook.PROGRESS else {}
    resource = catalog.create_resource(
        account,
        owner_department=department,
        kind=hook.kind,
        publish=may_publish,
        submit_for_review=not may_publish,
        **fields,
        **extra,
    )
    if hook.action == Hook.RESOURCE:
        InboundItem.objects.create(hook=hook, key=values["key"].strip(), resource=resource)
    return resource, True


def _replay(hook: InboundHook, delivery_id: str) -> Answer | None:
    if not delivery_id:
        return None
    earlier = InboundDelivery.objects.filter(hook=hook, delivery_id=delivery_id, status__lt=300).first()
    return Answer(earlier.status, json.loads(earlier.answer), replayed=True) if earlier else None


def receive(token: str, body: bytes, headers) -> Answer:
    """Write what one post to an inbound hook says; the answer and the post's outcome are logged on the hook."""
    hook = (
        InboundHook.objects.select_related("account", "project", "dataset").filter(digest=_digest(token or "")).first()
    )
    if hook is None or not hook.active:
        return _error(NotFound())
    if not hook.account.is_active:
        return _error(Forbidden(_("The service account of this hook is deactivated.")))
    delivery_id = _delivery_id(headers)
    if (earlier := _replay(hook, delivery_id)) is not None:
        return earlier
    try:
        document = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        return _logged(
            hook, delivery_id, _error(Invalid(fields={"body": _("Not JSON: %(reason)s") % {"reason": error}}))
        )
    for _attempt in range(2):
        try:
            with transaction.atomic():
                resource, answer = _write(hook, _values(hook, document))
                _log(hook, delivery_id, answer, resource)
            return answer
        except ServiceError as error:
            return _logged(hook, delivery_id, _error(error))
        except IntegrityError:  # the same delivery, or a new key, written by a post at the same moment
            if (earlier := _replay(hook, delivery_id)) is not None:
                return earlier
    return _logged(
        hook, delivery_id, _error(Conflict(_("Another post wrote this key at the same moment; send it again.")))
    )


def _log(hook: InboundHook, delivery_id: str, answer: Answer, resource: Resource | None = None) -> None:
    InboundDelivery.objects.create(
        hook=hook,
        delivery_id=delivery_id,
        received_at=timezone.now(),
        status=answer.status,
        answer=json.dumps(answer.body, ensure_ascii=False),
        resource=resource,
    )


def _logged(hook: InboundHook, delivery_id: str, answer: Answer) -> Answer:
    _log(hook, delivery_id, answer)
    return answer
