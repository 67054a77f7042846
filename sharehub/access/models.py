"""The conditional-sharing process: requests, their history, steward decisions and the grants they
create, plus the organization's decision deadline and working-day calendar."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class Grant(models.Model):
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="grants", verbose_name=_("resource")
    )
    grantee_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=_("grantee person"),
    )
    grantee_department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="grants",
        verbose_name=_("grantee department"),
    )
    purpose = models.TextField(_("purpose"))
    fields = models.JSONField(_("fields"), default=list, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("granted by")
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("revoked by"),
    )
    revoke_reason = models.TextField(_("reason for revoking"), blank=True)
    request = models.OneToOneField(
        "AccessRequest",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="grant",
        verbose_name=_("request"),
    )
    # When the background sweep recorded "expiring soon" and "expired": once each, never again.
    expiring_noted_at = models.DateTimeField(null=True, blank=True, editable=False)
    expired_noted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-valid_until"]
        constraints = [
            models.CheckConstraint(
                condition=Q(grantee_user__isnull=False, grantee_department__isnull=True)
                | Q(grantee_user__isnull=True, grantee_department__isnull=False),
                name="grant_has_one_grantee",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="grant_period_positive"),
        ]
        indexes = [models.Index(fields=["resource", "valid_until"])]
        verbose_name = _("grant")
        verbose_name_plural = _("grants")

    def __str__(self) -> str:
        return f"{self.resource} → {self.grantee_user or self.grantee_department}"


class AccessRequest(models.Model):
    """A request for a conditional resource's content, decided by the owner's stewards (and, where the
    department asks for it, its head) within a deadline counted in working days."""

    class Status(models.TextChoices):
        PENDING = "pending", _("awaiting the steward")
        PENDING_HEAD = "pending_head", _("awaiting the head")
        INFO = "info", _("more information asked")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")

    OPEN_STATUSES = (Status.PENDING, Status.PENDING_HEAD, Status.INFO)

    class UseCategory(models.TextChoices):
        VERIFICATION = "verification", _("business verification")
        PUBLIC_SERVICE = "public_service", _("public service")
        DECISION = "decision", _("decision support")
        STATISTICS = "statistics", _("statistics and analysis")
        RESEARCH = "research", _("research")
        OTHER = "other", _("other")

    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.PROTECT, related_name="access_requests", verbose_name=_("resource")
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="access_requests", verbose_name=_("requester")
    )
    for_department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("for the whole department"),
    )
    purpose = models.TextField(_("purpose"))
    use_category = models.CharField(_("intended use"), max_length=20, choices=UseCategory.choices)
    period_days = models.PositiveIntegerField(_("period (days)"))
    fields = models.JSONField(_("fields"), default=list, blank=True)
    # What the requester asked for; `period_days` and `fields` may be narrowed at the steward step.
    asked_period_days = models.PositiveIntegerField(_("period asked (days)"), default=0)
    asked_fields = models.JSONField(_("fields asked"), default=list, blank=True)
    terms_accepted = models.TextField(_("terms of use accepted"), blank=True)
    terms_accepted_at = models.DateTimeField(_("terms accepted at"))
    status = models.CharField(_("status"), max_length=14, choices=Status.choices, default=Status.PENDING, db_index=True)
    needs_head = models.BooleanField(_("needs the head's approval"), default=False)
    status_before_info = models.CharField(max_length=14, blank=True, editable=False)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    deadline_at = models.DateTimeField(_("deadline"), db_index=True)
    paused_at = models.DateTimeField(_("clock paused since"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    escalated_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decision_reason = models.TextField(_("reason"), blank=True)

    class Meta:
        ordering = ["deadline_at", "id"]
        indexes = [models.Index(fields=["resource", "requester", "status"])]
        verbose_name = _("access request")
        verbose_name_plural = _("access requests")

    def __str__(self) -> str:
        return f"#{self.pk} {self.resource} ← {self.requester}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RequestNote(models.Model):
    """One step of a request's history, shown to the requester and the deciders."""

    class Kind(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        INFO_ASKED = "info_asked", _("more information asked")
        INFO_GIVEN = "info_given", _("information given")
        FIRST_APPROVAL = "first_approval", _("approved by the steward, sent to the head")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        WITHDRAWN = "withdrawn", _("withdrawn")
        REMINDED = "reminded", _("deadline reminder sent")
        ESCALATED = "escalated", _("overdue, escalated to the head")

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="notes", verbose_name=_("request")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("author"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    text = models.TextField(_("text"), blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("request note")
        verbose_name_plural = _("request notes")

    def __str__(self) -> str:
        return f"#{self.request_id} {self.kind}"


class RequestAttachment(models.Model):
    """A file the requester added to an answer. The content lives in the catalog's content-addressed
    storage (by `sha256`); only the request's parties may download it, and its text is not extracted."""

    request = models.ForeignKey(
        AccessRequest, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("request")
    )
    note = models.ForeignKey(RequestNote, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("note"))
    filename = models.CharField(_("file name"), max_length=255)
    sha256 = models.CharField(max_length=64)
    size = models.BigIntegerField(_("size"))
    mime_type = models.CharField(_("type"), max_length=120)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        verbose_name = _("request attachment")
        verbose_name_plural = _("request attachments")

    def __str__(self) -> str:
        return self.filename


class ApprovalRule(models.Model):
    """A department's second step: its head also decides requests from outside `trusted_departments`
    (when `head_for_outsiders` is set). Single resources ask for it with `requires_head_approval`."""

    department = models.OneToOneField(
        "org.Department", on_delete=models.CASCADE, related_name="approval_rule", verbose_name=_("department")
    )
    head_for_outsiders = models.BooleanField(_("head also decides requests from other departments"), default=False)
    trusted_departments = models.ManyToManyField(
        "org.Department", blank=True, related_name="+", verbose_name=_("departments that need no second step")
    )

    class Meta:
        verbose_name = _("approval rule")
        verbose_name_plural = _("approval rules")

    def __str__(self) -> str:
        return str(self.department)


class AccessSettings(models.Model):
    """The organization's decision deadline and reminders (one row, edited by admins)."""

    decision_working_days = models.PositiveSmallIntegerField(_("decision deadline (working days)"), default=10)
    reminder_working_days = models.PositiveSmallIntegerField(_("remind this many working days before"), default=2)
    expiry_notice_days = models.PositiveSmallIntegerField(_("warn grantees this many days before expiry"), default=7)

    class Meta:
        verbose_name = _("access settings")
        verbose_name_plural = _("access settings")

    def __str__(self) -> str:
        return str(_("access settings"))

    @classmethod
    def current(cls) -> AccessSettings:
        return cls.objects.get_or_create(pk=1)[0]


class CalendarDay(models.Model):
    """An exception to the Monday-to-Friday week: a public holiday, or a weekend day that is worked
    (调休). Official days are the State Council's arrangement, loaded from the `chinesecalendar` package
    (`sharehub calendar load`), with the package's English holiday name; local days are the
    organization's own, added by its admins. A date has at most one day of each source, and a local
    day wins over the official one: a load never changes local days."""

    class Source(models.TextChoices):
        OFFICIAL = "official", _("official")
        LOCAL = "local", _("local")

    date = models.DateField(_("date"))
    is_working_day = models.BooleanField(_("working day"), default=False)
    name = models.CharField(_("name"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=8, choices=Source.choices, default=Source.LOCAL)

    class Meta:
        ordering = ["date", "source"]
        constraints = [models.UniqueConstraint(fields=["date", "source"], name="calendar_day_one_per_source")]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
