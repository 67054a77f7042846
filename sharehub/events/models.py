"""The append-only, hash-chained event log."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    pass


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk writes would bypass the model's guard; refuse them too."""

    def update(self, **kwargs):
        raise AppendOnlyError("events are append-only")

    def delete(self):
        raise AppendOnlyError("events are append-only")


class Event(models.Model):
    """One thing that happened. Each row holds the hash of the one before it (`prev_hash`), so that
    editing, deleting or reordering any row breaks the chain where it happened."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("time"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor name"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=60, db_index=True)
    target_type = models.CharField(_("target type"), max_length=60, blank=True, db_index=True)
    target_id = models.CharField(_("target id"), max_length=64, blank=True, db_index=True)
    target_label = models.CharField(_("target"), max_length=300, blank=True)
    departments = models.ManyToManyField(
        "org.Department", through="EventDepartment", blank=True, related_name="+", verbose_name=_("departments")
    )
    details = models.JSONField(_("details"), default=dict, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("event")
        verbose_name_plural = _("events")

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.target_label}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("events are append-only")


class EventDepartment(models.Model):
    """Which departments an event involves. Part of the hashed entry, so rows are never removed:
    a department with events cannot be deleted."""

    event = models.ForeignKey(Event, on_delete=models.PROTECT, related_name="+")
    department = models.ForeignKey("org.Department", on_delete=models.PROTECT, related_name="+")

    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        db_table = "events_event_departments"
        constraints = [models.UniqueConstraint(fields=["event", "department"], name="one_row_per_event_department")]
        verbose_name = _("event department")

    def __str__(self) -> str:
        return f"#{self.event_id} → {self.department_id}"


class ChainHead(models.Model):
    """The single row that holds the last sequence number and hash. Appending locks it, which
    serializes writers on PostgreSQL; on SQLite the IMMEDIATE transaction already does."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64, default="0" * 64)

    class Meta:
        verbose_name = _("chain head")

    def __str__(self) -> str:
        return f"#{self.seq} {self.hash[:12]}"


class ConsumerCursor(models.Model):
    """How far one reader of the log (notifications, later search and webhooks) has got. Readers
    move their cursor in the same transaction as their own writes, so nothing is skipped or done twice."""

    name = models.CharField(max_length=60, unique=True)
    seq = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("log reader")
        verbose_name_plural = _("log readers")

    def __str__(self) -> str:
        return f"{self.name} @ #{self.seq}"
