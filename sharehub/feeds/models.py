"""In-app notifications (one row per person per event that involves them) and follows (what a person,
or a whole department, wants to hear about)."""

from __future__ import annotations

import json

from django.conf import settings
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationManager(models.Manager):
    def create_for_event(self, event, recipients: dict[int, str], reason: str = "") -> dict[int, int]:
        """One notification of `event` for each recipient (person id → how it is mailed, "" not at all) who
        has none yet, in one statement per 5,000; returns person id → the new notification's id. For an
        event followed by thousands this replaces a bulk_create that built a model instance and seven
        parameters a row and re-read the ids (bench/fanout); a replay inserts nothing."""
        connection = connections[self.db]
        table = self.model._meta.db_table
        created_at = connection.ops.adapt_datetimefield_value(event.created_at)
        people = sorted(recipients)
        made: dict[int, int] = {}
        for start in range(0, len(people), 5000):
            chunk = people[start : start + 5000]
            if connection.vendor == "postgresql":
                source = "SELECT r, %s, %s, %s, m FROM unnest(%s::bigint[], %s::text[]) AS x(r, m)"
                params = [event.pk, created_at, reason, chunk, [recipients[p] for p in chunk]]
            else:  # SQLite: the rows as one JSON array; WHERE true lets SQLite parse ON CONFLICT after a SELECT
                source = (
                    "SELECT json_extract(value, '$[0]'), %s, %s, %s, json_extract(value, '$[1]') "
                    "FROM json_each(%s) WHERE true"
                )
                params = [event.pk, created_at, reason, json.dumps([[p, recipients[p]] for p in chunk])]
            with connection.cursor() as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (recipient_id, event_id, created_at, reason, mail) {source} "
                    "ON CONFLICT DO NOTHING RETURNING recipient_id, id",
                    params,
                )
                made.update(cursor.fetchall())
        return made


class Notification(models.Model):
    class Reason(models.TextChoices):
        INVOLVED = "", _("involves you")  # named in the event (a request, a review, a grant)
        FOLLOWING = "following", _("you follow it")
        SEARCH = "search", _("it matches a search you follow")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    # no index of its own: the unique constraint's leads with it
    event = models.ForeignKey(
        "events.Event", on_delete=models.PROTECT, related_name="+", db_index=False, verbose_name=_("event")
    )
    created_at = models.DateTimeField(_("time"))
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=12, choices=Reason.choices, default="", blank=True)
    # how it is to be mailed ("" not at all), from the follow that brought it; set once mailed
    mail = models.CharField(_("email"), max_length=10, blank=True, default="")
    mailed_at = models.DateTimeField(_("mailed"), null=True, blank=True)

    objects = NotificationManager()

    class Meta:
        ordering = ["-created_at", "-id"]
        # event first: an event's thousand notifications go into a few neighbouring pages of this index, not
        # one page per recipient (bench/fanout: the pages a fan-out wrote grew with the table)
        constraints = [models.UniqueConstraint(fields=["event", "recipient"], name="one_notification_per_event")]
        indexes = [
            models.Index(fields=["recipient", "read_at"]),
            models.Index(
                fields=["mail", "mailed_at"], condition=Q(mailed_at__isnull=True) & ~Q(mail=""), name="to_mail"
            ),
        ]
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
        SEARCH = "search", _("saved search")

    class Delivery(models.TextChoices):
        IN_APP = "in_app", _("in the app")
        EMAIL = "email", _("in the app and by email at once")
        DAILY = "daily", _("in the app and in a daily email")
        WEEKLY = "weekly", _("in the app and in a weekly email")
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


class MailSettings(models.Model):
    """How a person is mailed what involves them (a request to decide, the decision on their request, a grant
    given or ending): not at all (in the app only), at once, or in a daily or weekly digest. What they
    follow is mailed as each follow says."""

    person = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="mail_settings",
        verbose_name=_("person"),
    )
    involved = models.CharField(
        _("what involves you"),
        max_length=8,
        choices=[(v, label) for v, label in Follow.Delivery.choices if v != Follow.Delivery.OFF],
        default=Follow.Delivery.IN_APP,
    )

    class Meta:
        verbose_name = _("email settings")
        verbose_name_plural = _("email settings")

    def __str__(self) -> str:
        return f"{self.person_id}: {self.involved}"


class SearchMatch(models.Model):
    """A resource that was announced as a new match of a followed saved search: each is announced once."""

    saved_search = models.ForeignKey(
        "search.SavedSearch", on_delete=models.CASCADE, related_name="+", verbose_name=_("saved search")
    )
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="+", verbose_name=_("resource")
    )
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("notification")
    )
    created_at = models.DateTimeField(_("found"))

    class Meta:
        constraints = [models.UniqueConstraint(fields=["saved_search", "resource"], name="one_match_per_saved_search")]
        verbose_name = _("saved search match")
        verbose_name_plural = _("saved search matches")

    def __str__(self) -> str:
        return f"{self.saved_search_id} ∋ {self.resource_id}"


class InboundHook(models.Model):
    """An address that a system able only to send webhooks (a project tool, a CRM) posts its own JSON to.
    The mapping's templates turn each post into a progress entry of a project, a resource created or
    updated by a key, or a record of a dataset upserted by its record key, written by the hook's service
    account under the policy. The address holds a
    secret: only its SHA-256 is kept, the address is shown once."""

    class Action(models.TextChoices):
        PROGRESS = "progress", _("a progress entry of a project")
        RESOURCE = "resource", _("a resource, created or updated by its key")
        RECORDS = "records", _("a record of a dataset, inserted or updated by its key")

    name = models.CharField(_("name"), max_length=100)
    account = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="inbound_hooks",
        verbose_name=_("service account"),
    )
    action = models.CharField(_("writes"), max_length=10, choices=Action.choices)
    kind = models.CharField(_("kind"), max_length=12, default="notice")  # of the resources it writes (not progress)
    project = models.ForeignKey(
        "catalog.Project", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("project")
    )
    dataset = models.ForeignKey(
        "catalog.Resource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("dataset"),
    )
    mapping = models.JSONField(_("field mapping"), default=dict)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    active = models.BooleanField(_("on"), default=True)
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
        ordering = ["name", "id"]
        verbose_name = _("inbound webhook")
        verbose_name_plural = _("inbound webhooks")

    def __str__(self) -> str:
        return self.name


class InboundDelivery(models.Model):
    """One post to an inbound hook and Sharehub's answer. A sender's delivery id (Idempotency-Key,
    webhook-id, X-GitHub-Delivery, X-Gitlab-Event-UUID) answered with success is answered the same again."""

    hook = models.ForeignKey(InboundHook, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("hook"))
    delivery_id = models.CharField(_("delivery id"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received"))
    status = models.PositiveSmallIntegerField(_("status"))
    answer = models.TextField(_("answer"), blank=True)
    resource = models.ForeignKey(
        "catalog.Resource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("resource"),
    )

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["hook", "delivery_id"],
                condition=Q(status__lt=300) & ~Q(delivery_id=""),
                name="one_success_per_inbound_delivery",
            )
        ]
        indexes = [models.Index(fields=["hook", "received_at"])]
        verbose_name = _("inbound delivery")
        verbose_name_plural = _("inbound deliveries")

    def __str__(self) -> str:
        return f"{self.hook_id} {self.status}"


class InboundItem(models.Model):
    """Which resource a key of an inbound hook's posts names: the first post creates it, later ones update it."""

    hook = models.ForeignKey(InboundHook, on_delete=models.CASCADE, related_name="+", verbose_name=_("hook"))
    key = models.CharField(_("key"), max_length=255)
    resource = models.ForeignKey(
        "catalog.Resource", on_delete=models.CASCADE, related_name="+", verbose_name=_("resource")
    )

    class Meta:
        constraints = [models.UniqueConstraint(fields=["hook", "key"], name="one_resource_per_inbound_key")]
        verbose_name = _("inbound item")
        verbose_name_plural = _("inbound items")

    def __str__(self) -> str:
        return f"{self.hook_id}:{self.key}"


class Mail(models.Model):
    """One email to send: a notification at once, or a digest of several. The outbox is durable: a mail is
    claimed, sent outside any transaction, and retried with backoff when the server refuses it."""

    class Kind(models.TextChoices):
        AT_ONCE = "email", _("at once")
        DAILY = "daily", _("daily digest")
        WEEKLY = "weekly", _("weekly digest")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        SENT = "sent", _("sent")
        FAILED = "failed", _("failed")
        DROPPED = "dropped", _("not sent")  # nobody to send to, or nothing left the person may see

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    notifications = models.JSONField(_("notifications"), default=list)  # their ids
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="mail_queue")]
        verbose_name = _("email")
        verbose_name_plural = _("emails")

    def __str__(self) -> str:
        return f"{self.kind} mail to {self.recipient_id} ({self.status})"


class WebhookEndpoint(models.Model):
    """An address that receives events as signed JSON (Standard Webhooks). Registered by a service account
    or a person for themselves, or by a steward for their department; what it receives passes the policy
    as its owner. The signing secrets are stored encrypted with a key derived from SECRET_KEY."""

    class Kind(models.TextChoices):
        STANDARD = "standard", _("Standard Webhooks (JSON, signed)")
        FEISHU = "feishu", _("Feishu (飞书) group robot")
        DINGTALK = "dingtalk", _("DingTalk (钉钉) group robot")
        WECOM = "wecom", _("WeCom (企业微信) group robot")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhook_endpoints", verbose_name=_("owner")
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.STANDARD)
    department = models.ForeignKey(
        "org.Department",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="webhook_endpoints",
        verbose_name=_("department"),
    )
    url = models.URLField(_("address"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(_("event types"), default=list)  # actions, or prefixes ending in "."
    department_filter = models.JSONField(_("only resources of these departments"), default=list, blank=True)
    secret = models.TextField(_("secret (encrypted)"))
    previous_secret = models.TextField(_("previous secret (encrypted)"), blank=True)
    previous_until = models.DateTimeField(_("previous secret signs until"), null=True, blank=True)
    allow_private = models.BooleanField(_("may reach private addresses"), default=False)  # set by an admin
    active = models.BooleanField(_("active"), default=True)
    disabled_reason = models.CharField(_("why disabled"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created"))

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")

    def __str__(self) -> str:
        return self.url


class WebhookDelivery(models.Model):
    """One event for one endpoint: sent at least once, retried with backoff, its attempts logged."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENDING = "sending", _("sending")
        DELIVERED = "delivered", _("delivered")
        FAILED = "failed", _("failed")
        DROPPED = "dropped", _("not sent")  # the owner may not see it (any more), or the endpoint is off

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries", verbose_name=_("endpoint")
    )
    event = models.ForeignKey("events.Event", on_delete=models.PROTECT, related_name="+", verbose_name=_("event"))
    message_id = models.CharField(_("message id"), max_length=40)  # webhook-id: the same on every attempt
    payload = models.TextField(_("payload"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"))
    response_status = models.PositiveSmallIntegerField(_("response status"), null=True, blank=True)
    response_body = models.TextField(_("response"), blank=True)
    error = models.CharField(_("error"), max_length=300, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"))
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["endpoint", "event"], name="one_delivery_per_event")]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_queue")]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")

    def __str__(self) -> str:
        return f"{self.message_id} → {self.endpoint_id} ({self.status})"
