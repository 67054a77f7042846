"""The event log in the admin: read-only, and only for someone who is both admin and auditor.
Nobody adds, changes or deletes an event here (the model refuses it too)."""

from __future__ import annotations

import json

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from sharehub.events.models import Event
from sharehub.org.admin import ReadOnlyAdmin, site_permission
from sharehub.policy.engine import OrgAction, can


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["seq", "created_at", "actor_name", "action", "target_type", "target_label", "short_hash"]
    list_filter = ["action", "target_type"]
    search_fields = ["actor_name", "target_label", "action", "=target_id"]
    date_hierarchy = "created_at"
    fields = [
        "seq",
        "created_at",
        "actor_name",
        "action",
        "target_type",
        "target_id",
        "target_label",
        "department_names",
        "details_json",
        "previous_hash",
        "full_hash",
    ]
    readonly_fields = fields
    actions = None

    def _may_read(self, request) -> bool:
        return site_permission(request) and bool(can(request.user, OrgAction.READ_AUDIT))

    def has_module_permission(self, request):
        return self._may_read(request)

    def has_view_permission(self, request, obj=None):
        return self._may_read(request)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("departments")

    @admin.display(description=_("hash"))
    def short_hash(self, obj):
        return obj.hash[:12]

    # The chain's fields have no verbose name (one would be a migration): labelled here, in the user's language.
    @admin.display(description=_("previous hash"))
    def previous_hash(self, obj):
        return obj.prev_hash

    @admin.display(description=_("hash"))
    def full_hash(self, obj):
        return obj.hash

    @admin.display(description=_("departments"))
    def department_names(self, obj):
        return ", ".join(d.name for d in obj.departments.all())

    @admin.display(description=_("details"))
    def details_json(self, obj):
        return json.dumps(obj.details, ensure_ascii=False, indent=1, sort_keys=True)
