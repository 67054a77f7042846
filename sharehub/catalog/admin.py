"""Catalog reference lists for organization admins; resources themselves are edited on the product
pages (through the catalog services), so the admin only lists them."""

from __future__ import annotations

from django.contrib import admin

from sharehub.catalog.models import Category, DataGrade, Project, Resource, Tag
from sharehub.org.admin import PolicyAdmin, ReadOnlyAdmin


@admin.register(Category)
class CategoryAdmin(PolicyAdmin):
    list_display = ["__str__", "parent", "position"]
    search_fields = ["name"]
    list_select_related = ["parent"]


@admin.register(DataGrade)
class DataGradeAdmin(PolicyAdmin):
    list_display = ["name", "level", "description"]


@admin.register(Tag)
class TagAdmin(PolicyAdmin):
    list_display = ["name"]
    search_fields = ["name"]


@admin.register(Project)
class ProjectAdmin(PolicyAdmin):
    list_display = ["name", "department", "created_at"]
    list_filter = ["department"]
    search_fields = ["name"]
    list_select_related = ["department"]


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdmin):
    list_display = ["code", "title", "kind", "owner_department", "sharing_type", "status", "updated_at"]
    list_filter = ["kind", "status", "sharing_type", "owner_department"]
    search_fields = ["code", "title"]
    list_select_related = ["owner_department"]
    exclude = ["body"]
    actions = None
