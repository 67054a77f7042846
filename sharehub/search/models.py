"""The search index's bookkeeping, the organization's dictionary and saved searches.

The full-text structures themselves (an FTS5 table on SQLite, tsvector columns with GIN indexes on
PostgreSQL) are created by migration 0002 for the database in use; see `backends.py`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import Resource


class ResourceEntry(models.Model):
    """One indexed resource: what was indexed (a digest of the text) and when."""

    resource = models.OneToOneField(
        Resource, primary_key=True, on_delete=models.CASCADE, related_name="search_entry", verbose_name=_("resource")
    )
    digest = models.CharField(max_length=64)
    indexed_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("index entry")
        verbose_name_plural = _("index entries")

    def __str__(self) -> str:
        return f"{self.resource_id} {self.digest[:12]}"


class SearchTerm(models.Model):
    """A word of the organization (an abbreviation, a licence name) that segmentation keeps whole."""

    text = models.CharField(_("term"), max_length=40, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["text"]
        verbose_name = _("dictionary term")
        verbose_name_plural = _("dictionary terms")

    def __str__(self) -> str:
        return self.text


class SavedSearch(models.Model):
    """A person's saved query with its filters; subscribable once dissemination lands."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_searches", verbose_name=_("owner")
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("query"), max_length=500, blank=True)
    filters = models.JSONField(_("filters"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="unique_saved_search_name")]
        verbose_name = _("saved search")
        verbose_name_plural = _("saved searches")

    def __str__(self) -> str:
        return self.name
