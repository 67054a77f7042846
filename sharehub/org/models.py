"""Departments, people, memberships, service accounts and API tokens."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _


class Department(models.Model):
    """A node of the department tree. `path` holds the ids from the root ("/1/4/9/") so that a
    whole subtree is one indexed prefix query."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    code = models.SlugField(
        _("code"), max_length=20, unique=True, help_text=_("Short code used in resource codes, e.g. SWJ")
    )
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("parent department"),
    )
    path = models.CharField(_("tree path"), max_length=255, db_index=True, editable=False, default="")
    description = models.TextField(_("description"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    archived_at = models.DateTimeField(_("archived"), null=True, blank=True)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_from",
        verbose_name=_("merged into"),
    )

    class Meta:
        ordering = ["path"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name

    @property
    def depth(self) -> int:
        return max(self.path.count("/") - 2, 0)


class User(AbstractUser):
    """A person, or a service account (a non-person caller owned by a department)."""

    class Kind(models.TextChoices):
        PERSON = "person", _("person")
        SERVICE = "service", _("service account")

    display_name = models.CharField(_("display name"), max_length=120, blank=True)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PERSON)
    is_org_admin = models.BooleanField(_("organization admin"), default=False)
    is_auditor = models.BooleanField(_("auditor"), default=False)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)  # for email; "" the site's default
    service_owner = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_accounts",
        verbose_name=_("owning department"),
    )

    objects = UserManager()

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def __str__(self) -> str:
        return self.display_name or self.username

    @property
    def is_service(self) -> bool:
        return self.kind == self.Kind.SERVICE


class Membership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("member")
        STEWARD = "steward", _("steward")
        HEAD = "head", _("head")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("person"))
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "department"], name="one_membership_per_department")]
        ordering = ["department__path", "user__username"]
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")

    def __str__(self) -> str:
        return f"{self.user} @ {self.department} ({self.get_role_display()})"


class ApiToken(models.Model):
    """A bearer token. Only its SHA-256 is stored; the secret is shown once at creation."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("owner"))
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)
    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    scopes = models.JSONField(_("scopes"), default=list)  # sharehub.org.scopes
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, db_index=True)
    expiry_announced_at = models.DateTimeField(null=True, blank=True)  # when its owner was told it ends soon

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def scope_words(self) -> list[str]:
        from sharehub.org.scopes import describe

        return describe(self.scopes or ())

    @property
    def is_expired(self) -> bool:
        from django.utils import timezone

        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_active(self) -> bool:
        from django.utils import timezone

        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())


class IdempotencyKey(models.Model):
    """The first answer to an API write sent with an `Idempotency-Key` header (IETF draft
    httpapi-idempotency-key-header): a replay with the same key and request gets it again and changes
    nothing; the same key with another request is refused. Kept for `sharehub.idempotency.KEEP`."""

    caller = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+", verbose_name=_("caller"))
    key = models.CharField(_("key"), max_length=255)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)  # SHA-256 of method, path, body
    status = models.PositiveSmallIntegerField(_("status"))
    content_type = models.CharField(_("content type"), max_length=100)
    body = models.BinaryField(_("answer"))
    created_at = models.DateTimeField(_("created"), db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["caller", "key"], name="one_answer_per_idempotency_key")]
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")

    def __str__(self) -> str:
        return f"{self.caller_id}: {self.key}"


class PeopleImport(models.Model):
    """One upload of people from CSV or XLSX: parsed into rows with their errors, shown as a preview, then
    applied whole or discarded. The rows are kept so that the preview and the result can be shown again."""

    class Status(models.TextChoices):
        PREVIEW = "preview", _("preview")
        APPLYING = "applying", _("applying")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed")
        DISCARDED = "discarded", _("discarded")

    created_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+", verbose_name=_("uploaded by"))
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    file_name = models.CharField(_("file name"), max_length=255)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.PREVIEW)
    rows = models.JSONField(_("rows"), default=list)  # [{"line": n, "values": {...}, "errors": {...}, "action": ...}]
    summary = models.JSONField(_("summary"), default=dict)  # counts by action, and the failure reason if any
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("people import")
        verbose_name_plural = _("people imports")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"
