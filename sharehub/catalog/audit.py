"""How the catalog's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import Blob, Resource
from sharehub.events import describe


def _published(details: dict) -> str:
    if details.get("review"):
        return gettext("%(actor)s published the draft %(target)s after review.")
    return gettext("%(actor)s published the resource %(target)s.")


def _resource_fields() -> dict:
    """A resource's field names as people read them (what `resource.updated` lists as changed)."""
    return {f.name: f.verbose_name for f in Resource._meta.get_fields() if getattr(f, "verbose_name", None)}


def register() -> None:
    describe.register_area("resource", _("Catalog"))

    describe.register("resource.created", _("Resource created"), _("%(actor)s created %(target)s."))
    describe.register("resource.published", _("Resource published"), _published)
    describe.register("resource.updated", _("Resource edited"), _("%(actor)s edited %(target)s (version %(version)s)."))
    describe.register(
        "resource.sharing_changed",
        _("Sharing changed"),
        _("%(actor)s changed who may see %(target)s: %(sharing_type)s."),
    )
    describe.register("resource.archived", _("Resource archived"), _("%(actor)s archived the resource %(target)s."))
    describe.register("resource.restored", _("Resource restored"), _("%(actor)s restored the resource %(target)s."))
    describe.register(
        "resource.review_requested",
        _("Draft submitted for review"),
        _("%(actor)s submitted the draft %(target)s for review."),
    )
    describe.register(
        "resource.review_returned", _("Draft sent back"), _("%(actor)s sent the draft %(target)s back: %(reason)s")
    )
    describe.register(
        "resource.attachment_added", _("Attachment added"), _("%(actor)s attached %(filename)s to %(target)s.")
    )
    describe.register(
        "resource.attachment_removed",
        _("Attachment removed"),
        _("%(actor)s removed the attachment %(filename)s from %(target)s."),
    )
    describe.register(
        "resource.attachment_text_read",
        _("Attachment text extracted"),
        _("%(actor)s read the text of an attachment of %(target)s: %(status)s."),
    )
    describe.register("resource.read", _("Content read"), _("%(actor)s read %(target)s through %(via)s."))

    describe.register_detail(
        "kind", _("Kind"), describe.CHOICE, choices=dict(Resource.Kind.choices), actions=("resource.",)
    )
    describe.register_detail(
        "sharing_type",
        _("Sharing type"),
        describe.CHOICE,
        choices=dict(Resource.SharingType.choices),
        actions=("resource.",),
    )
    describe.register_detail(
        "status", _("Status"), describe.CHOICE, choices=dict(Resource.Status.choices), actions=("resource.created",)
    )
    describe.register_detail(
        "status",
        _("Text for search"),
        describe.CHOICE,
        choices=dict(Blob.TextStatus.choices),
        actions=("resource.attachment_text_read",),
    )
    describe.register_detail("scope_all", _("Whole organization"), describe.BOOL, actions=("resource.",))
    describe.register_detail("scope", _("Shared with"), describe.DEPARTMENTS, actions=("resource.",))
    describe.register_detail(
        "fields", _("Changed fields"), describe.CHOICES, choices=_LazyFields(), actions=("resource.updated",)
    )
    describe.register_detail("review", "review", describe.HIDDEN, actions=("resource.",))
    describe.register_detail("attachment", "attachment", describe.HIDDEN, actions=("resource.",))
    describe.register_detail("filename", _("File name"), actions=("resource.",))
    describe.register_detail("size", _("Size"), describe.SIZE, actions=("resource.",))
    describe.register_detail("sha256", _("SHA-256"), describe.DIGEST, actions=("resource.",))
    describe.register_detail("mime_type", _("File type"), actions=("resource.",))
    describe.register_detail("characters", _("Characters"), describe.NUMBER, actions=("resource.",))
    # a read of one resource names it as its target; of several, the target says how many and these list them
    describe.register_detail(
        "resources", _("Resources"), describe.RESOURCES, actions=("resource.read",), shown=_several
    )
    describe.register_detail("count", "count", describe.HIDDEN, actions=("resource.read",))


def _several(details: dict) -> bool:
    return len(details.get("resources") or ()) > 1


class _LazyFields(dict):
    """The field names, looked up when first read (the models' labels are lazy; so is this)."""

    def get(self, key, default=None):
        return _resource_fields().get(key, default)
