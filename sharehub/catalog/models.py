"""Catalog entries (resources), their versions, attachments, tags and classification."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.db import models
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from sharehub.org.models import Department

_LABELS: dict[tuple, dict[str, str]] = {}


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """What `get_FOO_display()` gives, from a table made once per language: Django's own builds a dict
    of every choice, translating each label, on each call (a list page showed 25 rows × 3 of them)."""
    key = (choices, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        labels = _LABELS[key] = {v: str(label) for v, label in choices.choices}
    return labels.get(value, value)


class Category(models.Model):
    """A node of the organization's classification tree (e.g. 基础 / 主题 / 部门 catalogs)."""

    name = models.CharField(_("name"), max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children", verbose_name=_("parent")
    )
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["parent_id", "position", "name"]
        constraints = [models.UniqueConstraint(fields=["parent", "name"], name="unique_category_name_per_parent")]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return f"{self.parent} / {self.name}" if self.parent_id else self.name


class DataGrade(models.Model):
    """How much harm a leak would do (一般 / 重要 / 核心 by default); admins configure the list."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    level = models.PositiveSmallIntegerField(_("level"), unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["level"]
        verbose_name = _("data grade")
        verbose_name_plural = _("data grades")

    def __str__(self) -> str:
        return self.name


class Tag(models.Model):
    name = models.CharField(_("name"), max_length=50, unique=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("tag")
        verbose_name_plural = _("tags")

    def __str__(self) -> str:
        return self.name


class Project(models.Model):
    """Groups progress updates."""

    name = models.CharField(_("name"), max_length=200)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="projects", verbose_name=_("department")
    )
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["department", "name"], name="unique_project_per_department")]
        verbose_name = _("project")
        verbose_name_plural = _("projects")

    def __str__(self) -> str:
        return self.name


class Resource(models.Model):
    class Kind(models.TextChoices):
        DOCUMENT = "document", _("document")
        DATASET = "dataset", _("dataset")
        NOTICE = "notice", _("notice")
        PROGRESS = "progress", _("progress update")
        LINK = "link", _("link")
        ARTICLE = "article", _("knowledge article")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        ARCHIVED = "archived", _("archived")

    class SharingType(models.TextChoices):
        # "open (无条件共享)" made English badges half Chinese; each language names the type alone.
        OPEN = "open", pgettext_lazy("sharing type", "open")
        CONDITIONAL = "conditional", pgettext_lazy("sharing type", "conditional")
        RESTRICTED = "restricted", pgettext_lazy("sharing type", "restricted")

    class Frequency(models.TextChoices):
        REALTIME = "realtime", _("real time")
        DAILY = "daily", _("daily")
        WEEKLY = "weekly", _("weekly")
        MONTHLY = "monthly", _("monthly")
        QUARTERLY = "quarterly", _("quarterly")
        YEARLY = "yearly", _("yearly")
        IRREGULAR = "irregular", _("irregular")
        NEVER = "never", _("not updated")

    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, db_index=True)
    title = models.CharField(_("title"), max_length=200)
    summary = models.TextField(_("summary"), blank=True)
    body = models.TextField(_("body"), blank=True, help_text=_("Markdown"))
    owner_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="resources", verbose_name=_("owner department")
    )
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="stewarded_resources",
        verbose_name=_("steward"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )
    tags = models.ManyToManyField(Tag, blank=True, related_name="resources", verbose_name=_("tags"))
    update_frequency = models.CharField(
        _("update frequency"), max_length=12, choices=Frequency.choices, default=Frequency.IRREGULAR
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT, db_index=True)
    category = models.ForeignKey(
        Category, null=True, blank=True, on_delete=models.PROTECT, related_name="resources", verbose_name=_("category")
    )
    data_grade = models.ForeignKey(
        DataGrade,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="resources",
        verbose_name=_("data grade"),
    )
    related = models.ManyToManyField("self", blank=True, symmetrical=True, verbose_name=_("related resources"))

    sharing_type = models.CharField(
        _("sharing type"), max_length=12, choices=SharingType.choices, default=SharingType.OPEN, db_index=True
    )
    scope_all = models.BooleanField(_("whole organization"), default=True)
    scope_departments = models.ManyToManyField(
        Department, blank=True, related_name="scoped_resources", verbose_name=_("scope departments")
    )
    conditions = models.TextField(_("sharing conditions"), blank=True)
    restriction_basis = models.TextField(_("basis for not sharing"), blank=True)
    terms_of_use = models.TextField(_("terms of use"), blank=True)
    max_grant_days = models.PositiveIntegerField(_("longest grant (days)"), default=90)
    requires_head_approval = models.BooleanField(_("requests also need the head's approval"), default=False)

    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.PROTECT, related_name="updates", verbose_name=_("project")
    )
    link_url = models.URLField(_("link"), max_length=500, blank=True)

    version = models.PositiveIntegerField(_("version"), default=1)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), db_index=True)
    published_at = models.DateTimeField(_("published"), null=True, blank=True)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["owner_department", "status", "sharing_type"])]
        verbose_name = _("resource")
        verbose_name_plural = _("resources")

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def dataset_fields(self) -> list[dict]:
        """A dataset's field list, kept by the exchange app; lists attach it to their rows with
        `catalog.queries.with_dataset_fields` (one query per page)."""
        attached = self.__dict__.get("_dataset_fields")
        if attached is not None:
            return attached
        if self.kind != Resource.Kind.DATASET:
            return []
        try:
            dataset = self.dataset
        except ObjectDoesNotExist:
            return []
        from sharehub.exchange.schema import as_dict

        return [as_dict(field) for field in dataset.fields.all()]

    def get_kind_display(self) -> str:
        return choice_label(Resource.Kind, self.kind)

    def get_status_display(self) -> str:
        return choice_label(Resource.Status, self.status)

    def get_sharing_type_display(self) -> str:
        return choice_label(Resource.SharingType, self.sharing_type)

    def get_update_frequency_display(self) -> str:
        return choice_label(Resource.Frequency, self.update_frequency)


class ResourceVersion(models.Model):
    """A snapshot of a resource's editable fields after an edit."""

    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="versions", verbose_name=_("resource")
    )
    number = models.PositiveIntegerField(_("version"))
    snapshot = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["resource", "number"], name="unique_version_number")]
        verbose_name = _("version")
        verbose_name_plural = _("versions")

    def __str__(self) -> str:
        return f"{self.resource.code} v{self.number}"


class Blob(models.Model):
    """File content, stored once under the data directory by its SHA-256."""

    sha256 = models.CharField(max_length=64, unique=True)
    size = models.BigIntegerField()
    mime_type = models.CharField(max_length=120)

    class TextStatus(models.TextChoices):
        PENDING = "pending", _("waiting to be read for search")
        DONE = "done", _("indexed for search")
        PARTIAL = "partial", _("partly indexed for search")
        SKIPPED = "skipped", _("not indexed for search")
        FAILED = "failed", _("could not be read for search")
        NONE = "none", _("no text to index")

    text = models.TextField(blank=True, help_text=_("plain text extracted for search"))
    text_status = models.CharField(max_length=10, choices=TextStatus.choices, default=TextStatus.PENDING)
    text_reason = models.CharField(max_length=32, blank=True, help_text=_("why the text is partial or missing"))
    text_attempts = models.PositiveSmallIntegerField(default=0)
    text_claimed_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["text_claimed_until"], name="blob_text_pending", condition=models.Q(text_status="pending")
            )
        ]

    def __str__(self) -> str:
        return self.sha256

    def text_note(self) -> str:
        """Why the text of this file is missing or partial from search, in the reader's language; else ""."""
        from sharehub.catalog import extract

        mb = 1024 * 1024
        notes = {
            extract.TOO_MANY_CHARS: _("Only the first %(n)s characters were indexed.")
            % {"n": f"{extract.MAX_CHARS:,}"},
            extract.TOO_MANY_CELLS: _("Only the first %(n)s cells were indexed.")
            % {"n": f"{settings.EXTRACT_MAX_CELLS:,}"},
            extract.TOO_MANY_PAGES: _("Only the first pages were indexed."),
            extract.INFLATES_TOO_MUCH: _("The file expands to more than %(mb)s MB when unpacked, so it was not read.")
            % {"mb": settings.EXTRACT_MAX_UNCOMPRESSED_BYTES // mb},
            extract.DAMAGED: _("The file could not be read; it may be damaged."),
            extract.TIMED_OUT: _("Reading the file took longer than %(s)s seconds, so it was stopped.")
            % {"s": settings.EXTRACT_TIMEOUT_SECONDS},
            extract.OUT_OF_MEMORY: _("Reading the file needed more than %(mb)s MB of memory, so it was stopped.")
            % {"mb": settings.EXTRACT_MEMORY_BYTES // mb},
            extract.MISSING_FILE: _("The stored file is missing."),
            extract.STOPPED_REPEATEDLY: _("Reading the file was stopped several times, so it was given up."),
        }
        return str(notes.get(self.text_reason, ""))


class Attachment(models.Model):
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("resource")
    )
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename


class ImportKey(models.Model):
    """Where an imported resource came from, so that running the same `sharehub import` again updates
    it instead of creating a duplicate. The unique key per department means two runs at once cannot
    both create the same resource."""

    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    key = models.CharField(max_length=64, help_text="SHA-256 of the source, which may be longer than an index allows")
    source = models.TextField(help_text="the file path, or the CSV path and the row's key or title")
    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="import_key")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the values and file content last imported")
    attachment = models.ForeignKey(Attachment, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    imported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["department", "key"], name="unique_import_key_per_department")]

    def __str__(self) -> str:
        return self.source


class DraftReview(models.Model):
    """A member's request that the stewards and heads of the owner department review a draft: they
    publish it or send it back with a reason. At most one is pending per resource."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("awaiting review")
        PUBLISHED = "published", _("published")
        RETURNED = "returned", _("sent back")
        CLOSED = "closed", _("closed without publishing")

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("resource"))
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted"))
    note = models.CharField(_("note to the reviewers"), max_length=500, blank=True)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["submitted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource"], condition=models.Q(outcome="pending"), name="one_pending_review_per_resource"
            )
        ]
        verbose_name = _("draft review")
        verbose_name_plural = _("draft reviews")

    def __str__(self) -> str:
        return f"{self.resource.code} review #{self.pk}"
