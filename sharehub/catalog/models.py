"""Catalog entries (resources), their versions, attachments, tags and classification."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sharehub.org.models import Department


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

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PUBLISHED = "published", _("published")
        ARCHIVED = "archived", _("archived")

    class SharingType(models.TextChoices):
        OPEN = "open", _("open (无条件共享)")
        CONDITIONAL = "conditional", _("conditional (有条件共享)")
        RESTRICTED = "restricted", _("restricted (不予共享)")

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
    dataset_fields = models.JSONField(_("fields"), default=list, blank=True)

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
    text = models.TextField(blank=True, help_text=_("plain text extracted for search"))
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.sha256


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
