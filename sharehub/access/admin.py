"""The access process in the admin, for organization admins (entry through the policy): the
deadline settings and the departments' approval rules are edited here; the working-day calendar is
listed (local days are added on the calendar page); requests and grants are read-only lists, since
they change only through the access process."""

from __future__ import annotations

from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sharehub.access import services
from sharehub.access.models import AccessRequest, AccessSettings, ApprovalRule, CalendarDay, Grant, RequestNote
from sharehub.org.admin import PolicyAdmin, PolicyPermissions, ReadOnlyAdmin


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["resource", "grantee_user", "grantee_department", "valid_from", "valid_until", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["resource__code", "resource__title", "purpose"]
    list_select_related = ["resource", "grantee_user", "grantee_department"]
    actions = None


@admin.register(AccessSettings)
class AccessSettingsAdmin(PolicyAdmin):
    list_display = ["__str__", "decision_working_days", "reminder_working_days", "expiry_notice_days"]
    fields = ["decision_working_days", "reminder_working_days", "expiry_notice_days"]

    def has_add_permission(self, request, obj=None):
        # One row for the organization; it exists once anyone has looked at it.
        return super().has_add_permission(request) and not AccessSettings.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        AccessSettings.current()
        return super().changelist_view(request, extra_context)


@admin.register(CalendarDay)
class CalendarDayAdmin(PolicyAdmin):
    """The calendar's days as a list. Local days are added on the calendar page and removed through the
    services, so each change lands on the event log; official days change only by loading them (the
    calendar page or `sharehub calendar load`)."""

    list_display = ["date", "name", "is_working_day", "source"]
    list_filter = ["source", "is_working_day"]
    search_fields = ["name"]
    date_hierarchy = "date"
    ordering = ["date", "-source"]
    actions = None

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return super().add_view(request, form_url, extra_context)
        return redirect(reverse("access:calendar") + "#add-local-day")

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        return allowed and (obj is None or obj.source == CalendarDay.Source.LOCAL)

    def delete_model(self, request, obj):
        services.remove_local_day(request.user, obj.date)


@admin.register(ApprovalRule)
class ApprovalRuleAdmin(PolicyAdmin):
    list_display = ["department", "head_for_outsiders"]
    list_filter = ["head_for_outsiders"]
    list_select_related = ["department"]
    search_fields = ["department__name", "department__code"]
    filter_horizontal = ["trusted_departments"]


class RequestNoteInline(PolicyPermissions, admin.TabularInline):
    model = RequestNote
    extra = 0
    fields = ["created_at", "kind", "author", "text"]
    readonly_fields = fields
    can_delete = False
    verbose_name_plural = _("history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["pk", "resource", "requester", "status", "use_category", "created_at", "deadline_at", "decided_at"]
    list_display_links = ["pk", "resource"]
    list_filter = ["status", "use_category", "needs_head", "resource__owner_department"]
    search_fields = ["resource__code", "resource__title", "requester__username", "requester__display_name", "purpose"]
    list_select_related = ["resource", "requester"]
    date_hierarchy = "created_at"
    inlines = [RequestNoteInline]
    actions = None
    readonly_fields = [
        "resource",
        "requester",
        "for_department",
        "purpose",
        "use_category",
        "period_days",
        "fields",
        "status",
        "needs_head",
        "created_at",
        "deadline_at",
        "paused_at",
        "decided_at",
        "decided_by",
        "decision_reason",
        "terms_accepted",
        "terms_accepted_at",
    ]
    fields = readonly_fields
