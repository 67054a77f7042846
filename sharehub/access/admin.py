"""Grants in the admin: a read-only list; grants are made and revoked through the access process."""

from __future__ import annotations

from django.contrib import admin

from sharehub.access.models import Grant
from sharehub.org.admin import ReadOnlyAdmin


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["resource", "grantee_user", "grantee_department", "valid_from", "valid_until", "revoked_at"]
    list_filter = [("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["resource__code", "resource__title", "purpose"]
    list_select_related = ["resource", "grantee_user", "grantee_department"]
    actions = None
