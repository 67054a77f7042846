"""Imports into the catalog (the write side of `sharehub import`).

The first import of a source creates a resource; every later import of the same source updates that
resource through the catalog services, so versions and events appear only when something changed.
A source is named by a string the caller chooses (a file's path, a CSV's path and a row key) and is
remembered per department in an ImportKey, whose unique constraint keeps two runs at once from both
creating it.
"""

from __future__ import annotations

import hashlib
import json
from enum import StrEnum
from pathlib import Path

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog import services
from sharehub.catalog.models import ImportKey, Resource
from sharehub.errors import Invalid
from sharehub.org.models import Department

CHUNK = 1024 * 1024


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


def no_longer_in(department: Department, origin: str, sources) -> list[ImportKey]:
    """The items an earlier import of `origin` (the source prefix of one folder or CSV, see the command's
    items) brought into `department` that are not among `sources` any more, with their resources, oldest
    first: a file deleted from the folder, a row removed from the CSV. Only reported, never changed: the
    catalog entry may be in use, and whether it is gone for good is the steward's call."""
    current = set(sources)
    earlier = ImportKey.objects.filter(department=department, source__startswith=origin).select_related("resource")
    return [key for key in earlier.order_by("imported_at", "pk") if key.source not in current]


def _chunks(path: Path):
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _sha256(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def _fingerprint(kind: str, fields: dict, file_sha256: str | None) -> str:
    canonical = json.dumps({"kind": kind, "fields": fields, "file": file_sha256}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def import_item(
    actor,
    department: Department,
    *,
    source: str,
    kind: str,
    fields: dict,
    file: Path | None = None,
    publish: bool = False,
) -> tuple[Resource, Outcome]:
    """Create or update the resource imported from `source`, in one transaction.

    `fields` are the values the source sets (create_resource's keyword arguments); fields it leaves
    out are not touched on an update. When the source is as it was at the last import, nothing is
    written, so edits made in the pages since then stay. The file is attached again only when its
    content changed; the attachment it replaces is removed from the resource (kept for the record).
    """
    key = hashlib.sha256(source.encode()).hexdigest()
    file_sha256 = _sha256(file) if file is not None else None
    fingerprint = _fingerprint(kind, fields, file_sha256)
    arguments = (actor, department, key, source, kind, fields, file, file_sha256, fingerprint, publish)
    try:
        with transaction.atomic():
            return _import(*arguments)
    except IntegrityError:
        if not ImportKey.objects.filter(department=department, key=key).exists():
            raise
    with transaction.atomic():  # another run created it meanwhile: update what that run made
        return _import(*arguments)


def _import(
    actor,
    department: Department,
    key: str,
    source: str,
    kind: str,
    fields: dict,
    file: Path | None,
    file_sha256: str | None,
    fingerprint: str,
    publish: bool,
) -> tuple[Resource, Outcome]:
    now = timezone.now()
    existing = (
        ImportKey.objects.select_for_update(of=("self",))
        .select_related("resource", "attachment__blob")
        .filter(department=department, key=key)
        .first()
    )
    if existing is None:
        resource = services.create_resource(actor, owner_department=department, kind=kind, publish=publish, **fields)
        attachment = services.add_attachment(actor, resource, file.name, _chunks(file)) if file is not None else None
        ImportKey.objects.create(
            department=department,
            key=key,
            source=source,
            resource=resource,
            fingerprint=fingerprint,
            attachment=attachment,
            imported_at=now,
        )
        return resource, Outcome.CREATED

    resource = existing.resource
    changed = False
    if existing.fingerprint != fingerprint:
        if resource.kind != kind:
            raise Invalid(
                fields={
                    "kind": _("It was imported as a %(kind)s; the kind of a resource cannot change.")
                    % {"kind": resource.get_kind_display()}
                }
            )
        version = resource.version
        resource = services.update_resource(actor, resource, fields, note=_("imported again"))
        changed = resource.version != version
        previous = existing.attachment
        if file is not None and (previous is None or previous.blob.sha256 != file_sha256):
            existing.attachment = services.add_attachment(actor, resource, file.name, _chunks(file))
            if previous is not None and previous.removed_at is None:
                services.remove_attachment(actor, previous)
            changed = True
        existing.fingerprint = fingerprint
        existing.source = source
        existing.imported_at = now
        existing.save(update_fields=["fingerprint", "source", "attachment", "imported_at"])
    if publish and resource.status == Resource.Status.DRAFT:
        resource = services.transition(actor, resource, "publish")
        changed = True
    return resource, Outcome.UPDATED if changed else Outcome.UNCHANGED
