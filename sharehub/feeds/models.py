"""In-app notifications (one row per person per event that involves them) and follows (what a person,
or a whole department, wants to hear about)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    class Reason(models.TextChoices):
        INVOLVED = "", _("involves you")  # named in the event (a request, a review, a grant)
        FOLLOWING = "following", _("you follow it")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="+", verbose_name=_("event"))
    created_at = models.DateTimeField(_("time"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, default="", blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["recipient", "event"], name="one_notification_per_event")]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self) -> str:
        return f"{self.recipient} ← #{self.event_id}"


class Follow(models.Model):
    """A person following something, or a department subscribed to it by its steward (its members hear of
    it unless they opted out: a follow of their own with delivery off)."""

    class Kind(models.TextChoices):
        RESOURCE = "resource", _("resource")
        DATASET = "dataset", _("dataset records")
        DEPARTMENT = "department", _("department")
        TAG = "tag", _("tag")
        CATEGORY = "category", _("category")
        PROJECT = "project", _("project")

    class Delivery(models.TextChoices):
        IN_APP = "in_app", _("in the app")
        OFF = "off", _("off")

    person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="follows",
        verbose_name=_("person"),
    )
    department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="subscriptions",
        verbose_name=_("subscribed department"),
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    target_id = models.PositiveBigIntegerField(_("followed"))
    delivery = models.CharField(_("delivery"), max_length=8, choices=Delivery.choices, default=Delivery.IN_APP)
    until = models.DateField(_("until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("created by"),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(person__isnull=False, department__isnull=True)
                | Q(person__isnull=True, department__isnull=False),
                name="follow_by_person_or_department",
            ),
            models.UniqueConstraint(
                fields=["person", "kind", "target_id"], condition=Q(person__isnull=False), name="one_follow_per_person"
            ),
            models.UniqueConstraint(
                fields=["department", "kind", "target_id"],
                condition=Q(department__isnull=False),
                name="one_subscription_per_department",
            ),
        ]
        indexes = [models.Index(fields=["kind", "target_id"], name="follow_target")]
        verbose_name = _("follow")
        verbose_name_plural = _("follows")

    def __str__(self) -> str:
        who = f"person {self.person_id}" if self.person_id else f"department {self.department_id}"
        return f"{who} → {self.kind} {self.target_id}"
