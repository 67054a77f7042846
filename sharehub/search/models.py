"""The search index's bookkeeping, the organization's dictionary and saved searches.

The full-text structures themselves (an FTS5 table on SQLite, tsvector columns with GIN indexes on
PostgreSQL) are created by migration 0002 for the database in use; see `backends.py`."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import Resource
from sharehub.org.models import Department


class ResourceEntry(models.Model):
    """One resource in the index: a narrow copy of the columns the policy filter and the facets read,
    and what text was indexed (a digest) and when.

    The copied columns are written by database triggers on `catalog_resource` (migration 0002), in
    the same transaction as the change, so they are never behind the catalog; the text follows the
    event log and may lag by the time the log reader takes. Search reads this table instead of the
    wide catalog table: the policy filter is compiled against it (`policy.engine.resource_sql`)."""

    resource = models.OneToOneField(
        Resource, primary_key=True, on_delete=models.CASCADE, related_name="search_entry", verbose_name=_("resource")
    )
    owner_department = models.ForeignKey(
        Department, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", db_index=False
    )
    kind = models.CharField(max_length=12)
    status = models.CharField(max_length=10)
    sharing_type = models.CharField(max_length=12)
    scope_all = models.BooleanField()
    updated_at = models.DateTimeField()
    published_at = models.DateTimeField(null=True)
    digest = models.CharField(max_length=64, blank=True, db_default="")
    indexed_at = models.DateTimeField(null=True, blank=True)
    # The `documents.INDEX_FORMAT` of the indexer that wrote the text (NULL: written before formats
    # were recorded); `sharehub reindex --check` names the entries of an older format.
    index_format = models.SmallIntegerField(null=True, blank=True)

    class Meta:
        indexes = [
            # Covers the columns the search statement reads, so each match costs one index lookup.
            models.Index(
                fields=[
                    "resource",
                    "owner_department",
                    "status",
                    "sharing_type",
                    "scope_all",
                    "kind",
                    "updated_at",
                    "published_at",
                ],
                name="search_entry_policy_columns",
            ),
            models.Index(fields=["updated_at"], name="search_entry_updated"),
            models.Index(fields=["owner_department", "sharing_type"], name="search_entry_owner_sharing"),
        ]
        verbose_name = _("index entry")
        verbose_name_plural = _("index entries")

    def __str__(self) -> str:
        return f"{self.resource_id} {self.digest[:12]}"


class SearchTerm(models.Model):
    """A word of the organization (an abbreviation, a licence name) that segmentation keeps whole."""

    text = models.CharField(_("term"), max_length=40, unique=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("added by"),
    )
    created_at = models.DateTimeField(_("added on"), auto_now_add=True)

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
