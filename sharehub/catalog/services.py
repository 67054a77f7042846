"""Every write to the catalog: validate, ask the policy, change rows, append the event, in one
transaction."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub import worker
from sharehub.catalog import extract, files, panels
from sharehub.catalog.models import (
    Attachment,
    Blob,
    Category,
    DataGrade,
    DraftReview,
    Project,
    Resource,
    ResourceVersion,
    Tag,
)
from sharehub.catalog.snapshots import snapshot
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import Action, can, reviewer_ids

MAX_TAGS = 20
MAX_TAG_LENGTH = 50
MAX_BODY_CHARS = 500_000
MAX_REVIEW_NOTE = 500
MAX_RETURN_REASON = 2000

CONTENT_FIELDS = (
    "title",
    "summary",
    "body",
    "tags",
    "update_frequency",
    "category",
    "data_grade",
    "steward",
    "project",
    "link_url",
    "dataset_fields",
    "related",
)
SHARING_FIELDS = (
    "sharing_type",
    "scope_all",
    "scope_departments",
    "conditions",
    "restriction_basis",
    "terms_of_use",
    "max_grant_days",
    "requires_head_approval",
)


@dataclass
class _Values:
    """Resolved values of a create or edit, after validation."""

    data: dict


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _clean_text(errors: dict, data: dict, name: str, *, required: bool = False, max_length: int | None = None) -> None:
    if name not in data:
        if required:
            errors[name] = _("This field is required.")
        return
    value = data[name]
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return
    if "\x00" in value:
        errors[name] = _("Must not contain the NUL character.")
        return
    value = value.strip() if name != "body" else value
    if required and not value.strip():
        errors[name] = _("This field is required.")
    elif max_length and len(value) > max_length:
        errors[name] = _("At most %(n)s characters.") % {"n": max_length}
    data[name] = value


def _clean_choice(errors: dict, data: dict, name: str, choices) -> None:
    if name in data and data[name] not in choices.values:
        errors[name] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices.values)}


def _clean_tags(errors: dict, data: dict) -> None:
    if "tags" not in data:
        return
    raw = data["tags"]
    if isinstance(raw, str):
        raw = re.split(r"[,，;；\s]+", raw)
    if not isinstance(raw, list | tuple) or not all(isinstance(t, str) for t in raw):
        errors["tags"] = _("Tags must be a list of words.")
        return
    names = []
    for name in raw:
        name = name.strip()
        if not name:
            continue
        if len(name) > MAX_TAG_LENGTH:
            errors["tags"] = _("A tag has at most %(n)s characters.") % {"n": MAX_TAG_LENGTH}
            return
        if name not in names:
            names.append(name)
    if len(names) > MAX_TAGS:
        errors["tags"] = _("At most %(n)s tags.") % {"n": MAX_TAGS}
        return
    data["tags"] = names


def _clean_fk(errors: dict, data: dict, name: str, model, *, label_field: str = "pk") -> None:
    if name not in data or data[name] in (None, ""):
        if name in data:
            data[name] = None
        return
    value = data[name]
    if isinstance(value, model):
        return
    try:
        data[name] = model.objects.get(pk=int(value))
    except (TypeError, ValueError, model.DoesNotExist):
        errors[name] = _("No such %(thing)s: %(value)s.") % {"thing": model._meta.verbose_name, "value": value}


def _clean_dataset_fields(errors: dict, data: dict) -> None:
    if "dataset_fields" not in data:
        return
    from sharehub.exchange.schema import clean_fields

    try:
        clean_fields(data["dataset_fields"])
    except ValueError as error:
        errors["dataset_fields"] = str(error)


def _clean_related(errors: dict, data: dict, actor) -> None:
    if "related" not in data:
        return
    from sharehub.policy.engine import visible

    raw = data["related"] or []
    if not isinstance(raw, list | tuple):
        errors["related"] = _("Related resources must be a list of ids.")
        return
    try:
        ids = {int(r.pk if isinstance(r, Resource) else r) for r in raw}
    except (TypeError, ValueError):
        errors["related"] = _("Related resources must be a list of ids.")
        return
    found = list(visible(actor, Resource.objects.filter(pk__in=ids)))
    if len(found) != len(ids):
        errors["related"] = _("Some related resources do not exist.")
        return
    data["related"] = found


def _clean_scope(errors: dict, data: dict) -> None:
    if "scope_departments" not in data:
        return
    raw = data["scope_departments"] or []
    try:
        ids = {int(d.pk if isinstance(d, Department) else d) for d in raw}
    except (TypeError, ValueError):
        errors["scope_departments"] = _("Scope must be a list of department ids.")
        return
    found = list(Department.objects.filter(pk__in=ids))
    if len(found) != len(ids):
        errors["scope_departments"] = _("Some departments in the scope do not exist.")
        return
    data["scope_departments"] = found


def _validate(actor, data: dict, *, kind: str, owner: Department, current: Resource | None = None) -> dict:
    """Check every field given; raise Invalid naming each bad field. Returns the cleaned values."""
    data = dict(data)
    errors: dict[str, str] = {}
    _clean_text(errors, data, "title", required=current is None or "title" in data, max_length=200)
    _clean_text(errors, data, "summary", max_length=2000)
    _clean_text(errors, data, "body", max_length=MAX_BODY_CHARS)
    _clean_text(errors, data, "conditions", max_length=4000)
    _clean_text(errors, data, "restriction_basis", max_length=4000)
    _clean_text(errors, data, "link_url", max_length=500)
    _clean_text(errors, data, "terms_of_use", max_length=4000)
    if "max_grant_days" in data:
        days = data["max_grant_days"]
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 3650:
            errors["max_grant_days"] = _("A whole number of days from 1 to 3650.")
    if "requires_head_approval" in data and not isinstance(data["requires_head_approval"], bool):
        errors["requires_head_approval"] = _("Must be true or false.")
    _clean_choice(errors, data, "update_frequency", Resource.Frequency)
    _clean_choice(errors, data, "sharing_type", Resource.SharingType)
    _clean_tags(errors, data)
    _clean_fk(errors, data, "category", Category)
    _clean_fk(errors, data, "data_grade", DataGrade)
    _clean_fk(errors, data, "steward", User)
    _clean_fk(errors, data, "project", Project)
    _clean_dataset_fields(errors, data)
    _clean_related(errors, data, actor)
    _clean_scope(errors, data)
    if "scope_all" in data and not isinstance(data["scope_all"], bool):
        errors["scope_all"] = _("Must be true or false.")

    def final(name, default=None):
        if name in data:
            return data[name]
        return getattr(current, name) if current is not None else default

    if not errors:
        steward = final("steward")
        if (
            steward is not None
            and "steward" in data
            and not Membership.objects.filter(
                user=steward, department=owner, role__in=[Membership.Role.STEWARD, Membership.Role.HEAD]
            ).exists()
        ):
            errors["steward"] = _("The steward must be a steward or head of %(dept)s.") % {"dept": owner.name}
        sharing = final("sharing_type", Resource.SharingType.OPEN)
        if sharing == Resource.SharingType.CONDITIONAL and not (final("conditions", "") or "").strip():
            errors["conditions"] = _("A conditional resource must state its sharing conditions.")
        if sharing == Resource.SharingType.RESTRICTED and not (final("restriction_basis", "") or "").strip():
            errors["restriction_basis"] = _(
                "A restricted resource must state the legal or policy basis for not sharing."
            )
        scope_all = final("scope_all", True)
        if "scope_departments" in data:
            scope_depts = data["scope_departments"]
        elif current is not None:
            scope_depts = list(current.scope_departments.all())
        else:
            scope_depts = []
        if scope_all is False and not scope_depts and sharing != Resource.SharingType.RESTRICTED:
            errors["scope_departments"] = _("Choose at least one department, or share with the whole organization.")
        if kind == Resource.Kind.LINK:
            url = final("link_url", "")
            if not url:
                errors["link_url"] = _("A link needs the address of the external system.")
            else:
                try:
                    URLValidator(schemes=["http", "https"])(url)
                except DjangoValidationError:
                    errors["link_url"] = _("Enter a valid http or https address.")
        if kind != Resource.Kind.DATASET and data.get("dataset_fields"):
            errors["dataset_fields"] = _("Only a dataset has fields.")
        if kind == Resource.Kind.PROGRESS and final("project") is None:
            errors["project"] = _("A progress update belongs to a project.")
        project = final("project")
        if project is not None and "project" in data and project.department_id != owner.pk:
            errors["project"] = _("The project must belong to %(dept)s.") % {"dept": owner.name}
    if errors:
        raise Invalid(fields=errors)
    return data


def _next_code(department: Department) -> str:
    """DEPT-YYYY-NNNN, numbered per department and year. Called with the department row locked."""
    prefix = f"{department.code.upper()}-{timezone.now():%Y}-"
    last = Resource.objects.filter(code__startswith=prefix).order_by("-code").values_list("code", flat=True).first()
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{number:04d}"


def _apply(resource: Resource, data: dict, names: Iterable[str], actor=None) -> list[str]:
    """Set plain and many-to-many fields; return the names that changed."""
    changed = []
    for name in names:
        if name not in data:
            continue
        value = data[name]
        if name == "tags":
            before = sorted(t.name for t in resource.tags.all())
            if before != sorted(value):
                tags = [Tag.objects.get_or_create(name=tag)[0] for tag in value]
                resource.tags.set(tags)
                changed.append(name)
        elif name in ("related", "scope_departments"):
            manager = getattr(resource, name)
            before = {r.pk for r in manager.all()}
            after = {r.pk for r in value}
            if name == "related":
                after.discard(resource.pk)  # a resource is not related to itself
            if before != after:
                manager.set(list(after))
                changed.append(name)
        elif name == "dataset_fields" and resource.kind == Resource.Kind.DATASET:
            from sharehub.exchange.schema import replace_fields

            if replace_fields(actor, resource, value, announce=False):
                changed.append(name)
        elif name == "dataset_fields":
            continue
        elif getattr(resource, name) != value:
            setattr(resource, name, value)
            changed.append(name)
    return changed


def _save_version(resource: Resource, actor, note: str = "") -> ResourceVersion:
    return ResourceVersion.objects.create(
        resource=resource, number=resource.version, snapshot=snapshot(resource), author=actor, note=note[:300]
    )


def _involved(resource: Resource) -> list[int]:
    return [resource.owner_department_id, *resource.scope_departments.values_list("pk", flat=True)]


@transaction.atomic
def create_resource(
    actor,
    *,
    owner_department,
    kind: str,
    publish: bool = False,
    submit_for_review: bool = False,
    knowledge_space: bool = False,
    **fields,
) -> Resource:
    """Create a resource as a draft (or published at once when `publish` and the actor may); with
    `submit_for_review`, the draft goes to the department's review queue in the same transaction.
    An article is made only in a knowledge space (`sharehub.knowledge.articles.create_article`, which passes
    `knowledge_space`), so that it always has its place in the space's page tree."""
    errors = {}
    owner = owner_department
    if not isinstance(owner, Department):
        try:
            owner = Department.objects.get(pk=int(owner))
        except (TypeError, ValueError, Department.DoesNotExist):
            errors["owner_department"] = _("No such department: %(value)s.") % {"value": owner_department}
    if isinstance(owner, Department) and owner.archived_at is not None:  # archived: takes no new resources
        errors["owner_department"] = _("%(dept)s is archived; choose a department in use.") % {"dept": owner.name}
    if kind not in Resource.Kind.values:
        errors["kind"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Resource.Kind.values)}
    elif kind == Resource.Kind.ARTICLE and not knowledge_space:
        errors["kind"] = _("Articles are written in a department's knowledge space (/knowledge/), not here.")
    unknown = set(fields) - set(CONTENT_FIELDS) - set(SHARING_FIELDS)
    for name in unknown:
        errors[name] = _("Unknown field.")
    if errors:
        raise Invalid(fields=errors)
    _require(can(actor, "create", owner))
    data = _validate(actor, fields, kind=kind, owner=owner)
    if publish:
        probe = Resource(owner_department=owner)
        _require(can(actor, Action.MANAGE, probe))
    # Serializes code numbering per department. FOR NO KEY UPDATE, not FOR UPDATE: a plain FOR UPDATE also
    # blocks every insert that references the department (FOR KEY SHARE), which deadlocked on PostgreSQL
    # with a transaction holding the event chain's head and then inserting such a row (bench/api writes).
    locked = Department.objects.select_for_update(no_key=True).filter(pk=owner.pk).first()
    if locked is not None and locked.archived_at is not None:  # archived (or merged) while this one waited
        raise Invalid(
            fields={"owner_department": _("%(dept)s is archived; choose a department in use.") % {"dept": owner.name}}
        )
    now = timezone.now()
    resource = Resource(
        code=_next_code(owner),
        kind=kind,
        owner_department=owner,
        created_by=actor if getattr(actor, "pk", None) else None,
        updated_at=now,
        status=Resource.Status.PUBLISHED if publish else Resource.Status.DRAFT,
        published_at=now if publish else None,
    )
    if "steward" not in data:
        resource.steward = _default_steward(owner, actor)
    after_save = ("tags", "related", "scope_departments", "dataset_fields")
    _apply(resource, data, [n for n in (*CONTENT_FIELDS, *SHARING_FIELDS) if n not in after_save])
    resource.save()
    if kind == Resource.Kind.DATASET:
        from sharehub.exchange.schema import ensure_dataset

        ensure_dataset(resource)
    _apply(resource, data, after_save, actor)
    _save_version(resource, actor, _("created"))
    record(
        actor,
        "resource.created",
        resource,
        departments=_involved(resource),
        details={"code": resource.code, "kind": kind, "sharing_type": resource.sharing_type, "status": resource.status},
    )
    if publish:
        record(actor, "resource.published", resource, departments=_involved(resource), details={"code": resource.code})
    elif submit_for_review:
        _submit(actor, resource, "")
    return resource


def _default_steward(owner: Department, actor) -> User | None:
    membership = Membership.objects.filter(
        department=owner, role__in=[Membership.Role.STEWARD, Membership.Role.HEAD]
    ).order_by("role", "user_id")
    if getattr(actor, "pk", None):
        mine = membership.filter(user_id=actor.pk).first()
        if mine:
            return mine.user
    first = membership.select_related("user").first()
    return first.user if first else None


def _locked(resource: Resource) -> Resource:
    try:
        return Resource.objects.select_for_update(no_key=True).select_related("owner_department").get(pk=resource.pk)
    except Resource.DoesNotExist:
        raise NotFound() from None


def _related_hidden_from(actor, resource: Resource) -> list[Resource]:
    """Links to resources the editor may not see: their form and the API list only visible ones, so an edit
    of the related list keeps these instead of dropping links the editor never saw."""
    from sharehub.policy.engine import visible

    linked = resource.related.all()
    return list(linked.exclude(pk__in=visible(actor, linked).values("pk")))


@transaction.atomic
def update_resource(actor, resource: Resource, changes: dict, note: str = "") -> Resource:
    """Edit content fields (and sharing fields, if the actor may manage); a new version when anything changed."""
    unknown = set(changes) - set(CONTENT_FIELDS) - set(SHARING_FIELDS)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    resource = _locked(resource)
    _require(can(actor, Action.EDIT, resource))
    involved_before = _involved(resource)
    sharing_changes = {k: v for k, v in changes.items() if k in SHARING_FIELDS}
    if sharing_changes:
        _require(can(actor, Action.MANAGE, resource))
    data = _validate(actor, changes, kind=resource.kind, owner=resource.owner_department, current=resource)
    if "related" in data:
        data["related"] = [*data["related"], *_related_hidden_from(actor, resource)]
    changed = _apply(resource, data, (*CONTENT_FIELDS, *SHARING_FIELDS), actor)
    if not changed:
        return resource
    resource.version += 1
    resource.updated_at = timezone.now()
    resource.save()
    _save_version(resource, actor, note)
    record(
        actor,
        "resource.updated",
        resource,
        departments=_involved(resource),
        details={"code": resource.code, "version": resource.version, "fields": changed, "note": note[:300]},
    )
    if set(changed) & set(SHARING_FIELDS):
        record(
            actor,
            "resource.sharing_changed",
            resource,
            departments={*involved_before, *_involved(resource)},
            details={
                "code": resource.code,
                "sharing_type": resource.sharing_type,
                "scope_all": resource.scope_all,
                "scope": sorted(d.pk for d in resource.scope_departments.all()),
            },
        )
    return resource


def change_sharing(actor, resource: Resource, **sharing) -> Resource:
    unknown = set(sharing) - set(SHARING_FIELDS)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    return update_resource(actor, resource, sharing, note=_("sharing changed"))


_TRANSITIONS = {
    "publish": ((Resource.Status.DRAFT,), Resource.Status.PUBLISHED, "resource.published"),
    "archive": ((Resource.Status.DRAFT, Resource.Status.PUBLISHED), Resource.Status.ARCHIVED, "resource.archived"),
    "restore": ((Resource.Status.ARCHIVED,), Resource.Status.PUBLISHED, "resource.restored"),
}


@transaction.atomic
def transition(actor, resource: Resource, verb: str) -> Resource:
    """publish, archive or restore. Archiving replaces deleting: nothing is ever lost."""
    if verb not in _TRANSITIONS:
        raise Invalid(fields={"action": _("Choose publish, archive or restore.")})
    sources, target, action = _TRANSITIONS[verb]
    resource = _locked(resource)
    _require(can(actor, Action.MANAGE, resource))
    if resource.status not in sources:
        raise Invalid(
            _("A %(status)s resource cannot be changed that way.") % {"status": resource.get_status_display()},
            fields={"status": resource.status},
        )
    if verb == "restore" and resource.published_at is None:
        target = Resource.Status.DRAFT  # archived before it was ever published: back to a draft, not out
    now = timezone.now()
    resource.status = target
    resource.updated_at = now
    if target == Resource.Status.PUBLISHED and resource.published_at is None:
        resource.published_at = now
    resource.save(update_fields=["status", "updated_at", "published_at"])
    details = {"code": resource.code}
    review = _pending_review(resource)
    if review is not None:
        outcome = DraftReview.Outcome.PUBLISHED if verb == "publish" else DraftReview.Outcome.CLOSED
        details.update(_close_review(actor, review, outcome, now))
    record(actor, action, resource, departments=_involved(resource), details=details)
    return resource


# --- review of drafts ----------------------------------------------------------------------------


def _pending_review(resource: Resource) -> DraftReview | None:
    review = DraftReview.objects.filter(resource=resource, outcome=DraftReview.Outcome.PENDING).first()
    if review is not None:
        review.resource = resource
    return review


def _close_review(actor, review: DraftReview, outcome: str, now, reason: str = "") -> dict:
    """Settle a pending review; the event details that tell the submitter (the caller records the event)."""
    review.outcome = outcome
    review.decided_by = actor if getattr(actor, "pk", None) else None
    review.decided_at = now
    review.reason = reason
    review.save(update_fields=["outcome", "decided_by", "decided_at", "reason"])
    return {
        "review": review.pk,
        "title": review.resource.title,
        "recipients": [review.submitted_by_id] if review.submitted_by_id else [],
    }


def _submit(actor, resource: Resource, note: str) -> DraftReview:
    if resource.status != Resource.Status.DRAFT:
        raise Invalid(
            _("Only a draft can be submitted for review."), fields={"status": _("This resource is not a draft.")}
        )
    if _pending_review(resource) is not None:
        raise Conflict(_("This draft is already waiting for review."))
    review = DraftReview.objects.create(
        resource=resource,
        submitted_by=actor if getattr(actor, "pk", None) else None,
        submitted_at=timezone.now(),
        note=note,
    )
    record(
        actor,
        "resource.review_requested",
        resource,
        departments=[resource.owner_department_id],
        details={
            "code": resource.code,
            "title": resource.title,
            "review": review.pk,
            "note": note,
            "recipients": reviewer_ids(resource.owner_department_id),
        },
    )
    return review


def _clean_review_text(name: str, value, max_length: int, *, required: bool) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise Invalid(fields={name: _("Must be text.")})
    value = value.strip()
    if required and not value:
        raise Invalid(fields={name: _("Say why the draft is sent back.")})
    if len(value) > max_length:
        raise Invalid(fields={name: _("At most %(n)s characters.") % {"n": max_length}})
    return value


@transaction.atomic
def submit_for_review(actor, resource: Resource, note: str = "") -> DraftReview:
    """A member asks the stewards and heads of the owner department to review a draft; they are notified."""
    note = _clean_review_text("note", note, MAX_REVIEW_NOTE, required=False)
    resource = _locked(resource)
    _require(can(actor, Action.EDIT, resource))
    return _submit(actor, resource, note)


def _reviewable(actor, resource: Resource) -> tuple[Resource, DraftReview]:
    resource = _locked(resource)
    _require(can(actor, Action.REVIEW, resource))
    review = _pending_review(resource)
    if review is None or resource.status != Resource.Status.DRAFT:
        raise Conflict(_("This draft is not waiting for review (it may have been decided already)."))
    return resource, review


@transaction.atomic
def publish_reviewed(actor, resource: Resource) -> Resource:
    """A reviewer publishes a draft submitted for review; the submitter is notified."""
    resource, review = _reviewable(actor, resource)
    now = timezone.now()
    resource.status = Resource.Status.PUBLISHED
    resource.updated_at = now
    resource.published_at = resource.published_at or now
    resource.save(update_fields=["status", "updated_at", "published_at"])
    details = {"code": resource.code, **_close_review(actor, review, DraftReview.Outcome.PUBLISHED, now)}
    record(actor, "resource.published", resource, departments=_involved(resource), details=details)
    return resource


@transaction.atomic
def return_draft(actor, resource: Resource, reason: str) -> DraftReview:
    """A reviewer sends a draft back to its submitter with a reason; it stays a draft, to be edited and
    submitted again."""
    reason = _clean_review_text("reason", reason, MAX_RETURN_REASON, required=True)
    resource, review = _reviewable(actor, resource)
    details = _close_review(actor, review, DraftReview.Outcome.RETURNED, timezone.now(), reason)
    record(
        actor,
        "resource.review_returned",
        resource,
        departments=[resource.owner_department_id],
        details={"code": resource.code, "reason": reason, **details},
    )
    return review


def add_attachment(actor, resource: Resource, filename: str, chunks) -> Attachment:
    """Store a file (content-addressed) and attach it; its text is read for search later, in the background
    (`tasks.extract_pending`), never inside this transaction. The file is written before the transaction; if
    the transaction fails, the orphan blob file is harmless and reused by the next identical upload."""
    name = files.clean_filename(filename)
    if not can(actor, Action.EDIT, resource):
        raise Forbidden(can(actor, Action.EDIT, resource).message)
    sha256, size, tmp_path = files.store_upload(chunks)
    with open(tmp_path, "rb") as handle:
        head = handle.read(8192)
    mime = files.sniff_type(head, name)
    files.commit_blob(sha256, tmp_path)
    with transaction.atomic():
        resource = _locked(resource)
        _require(can(actor, Action.EDIT, resource))
        blob = Blob.objects.filter(sha256=sha256).first()
        if blob is None:
            status = Blob.TextStatus.PENDING if extract.has_text(mime) else Blob.TextStatus.NONE
            blob = Blob.objects.create(sha256=sha256, size=size, mime_type=mime, text_status=status)
            if status == Blob.TextStatus.PENDING:
                transaction.on_commit(worker.wake)
        attachment = Attachment.objects.create(resource=resource, blob=blob, filename=name, uploaded_by=actor)
        resource.updated_at = timezone.now()
        resource.save(update_fields=["updated_at"])
        record(
            actor,
            "resource.attachment_added",
            resource,
            departments=[resource.owner_department_id],
            details={
                "code": resource.code,
                "attachment": attachment.pk,
                "filename": name,
                "size": size,
                "sha256": sha256,
                "mime_type": mime,
            },
        )
    return attachment


@transaction.atomic
def store_extracted_text(blob_id: int, result: extract.Result) -> None:
    """Keep what the background reader found in a file, and tell the log for each resource it is attached to,
    so that the search index (a reader of the log) picks the text up."""
    with transaction.atomic():
        blob = Blob.objects.select_for_update().filter(pk=blob_id, text_status=Blob.TextStatus.PENDING).first()
        if blob is None:
            return
        blob.text = result.text[: extract.MAX_CHARS]
        blob.text_status = result.status
        blob.text_reason = result.reason[:32]
        blob.text_claimed_until = None
        blob.save(update_fields=["text", "text_status", "text_reason", "text_claimed_until"])
        attached = Resource.objects.filter(attachments__blob=blob, attachments__removed_at__isnull=True).distinct()
        for resource in attached.order_by("pk"):
            record(
                None,
                "resource.attachment_text_read",
                resource,
                departments=[resource.owner_department_id],
                details={
                    "code": resource.code,
                    "sha256": blob.sha256,
                    "status": result.status,
                    "reason": result.reason,
                    "characters": len(blob.text),
                },
            )


@transaction.atomic
def remove_attachment(actor, attachment: Attachment) -> None:
    """Hide an attachment from the resource; the file stays for the record."""
    resource = _locked(attachment.resource)
    _require(can(actor, Action.EDIT, resource))
    if attachment.removed_at is None:
        attachment.removed_at = timezone.now()
        attachment.save(update_fields=["removed_at"])
        record(
            actor,
            "resource.attachment_removed",
            resource,
            departments=[resource.owner_department_id],
            details={"code": resource.code, "attachment": attachment.pk, "filename": attachment.filename},
        )


def note_content_read(actor, resources: Iterable[Resource], via: str) -> None:
    """Record one event for a request that showed closed (non-open) content. Open content is not logged,
    but every read is told to `panels.content_read` (recognition counts reads by other departments)."""
    resources = list(resources)
    panels.note_read(actor, resources, via)
    closed = [r for r in resources if r.sharing_type != Resource.SharingType.OPEN]
    if not closed:
        return
    departments = sorted({r.owner_department_id for r in closed})
    target = closed[0] if len(closed) == 1 else ("catalog.resource", "", _("%(n)s resources") % {"n": len(closed)})
    with transaction.atomic():
        record(
            actor,
            "resource.read",
            target,
            departments=departments,
            details={"via": via, "resources": [r.code for r in closed][:500], "count": len(closed)},
        )
