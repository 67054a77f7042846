"""Who came from a directory, the rules that map directory groups and attributes to departments, and the
record of each sync."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from sharehub.org.models import Membership


class MappingRule(models.Model):
    """When a person's directory group or attribute matches, they belong to `department` with `role`.

    Rules apply in `position` order; for each department the first matching rule decides the role (put a
    steward rule above a general member rule of the same department)."""

    class Kind(models.TextChoices):
        GROUP = "group", _("group")
        ATTRIBUTE = "attribute", _("attribute")

    position = models.PositiveIntegerField(_("position"), default=0, db_index=True)
    kind = models.CharField(_("matches on"), max_length=10, choices=Kind.choices, default=Kind.GROUP)
    attribute = models.CharField(_("attribute"), max_length=100, blank=True)  # for kind=attribute
    value = models.CharField(_("value"), max_length=500)  # a group's DN or name, or the attribute's value
    department = models.ForeignKey(
        "org.Department", on_delete=models.CASCADE, related_name="directory_rules", verbose_name=_("department")
    )
    role = models.CharField(_("role"), max_length=10, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["position", "pk"]
        verbose_name = _("mapping rule")
        verbose_name_plural = _("mapping rules")

    def __str__(self) -> str:
        if self.kind == self.Kind.ATTRIBUTE:
            return f"{self.attribute} = {self.value} → {self.department} ({self.role})"
        return f"{self.value} → {self.department} ({self.role})"


class DirectoryAccount(models.Model):
    """A person's identity in a directory: an LDAP entry (keyed by its login name) or an OpenID Connect
    subject. Keeps what the directory said of them last (groups, attributes), so rules can be previewed,
    and the memberships the rules gave, so a later change takes back only those."""

    class Source(models.TextChoices):
        LDAP = "ldap", _("LDAP / Active Directory")
        OIDC = "oidc", _("OpenID Connect")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="directory_accounts", verbose_name=_("person")
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices)
    external_id = models.CharField(_("identifier in the directory"), max_length=500)
    dn = models.CharField(_("distinguished name"), max_length=1000, blank=True)
    groups = models.JSONField(_("groups"), default=list, blank=True)
    attributes = models.JSONField(_("attributes"), default=dict, blank=True)
    granted = models.JSONField(default=list, blank=True)  # [[department id, role], ...] the rules gave
    seen_at = models.DateTimeField(_("last seen in the directory"), null=True, blank=True)
    deactivated_by_sync = models.BooleanField(default=False)  # reactivated if the directory lists them again
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="one_account_per_directory_identity")
        ]
        verbose_name = _("directory account")
        verbose_name_plural = _("directory accounts")

    def __str__(self) -> str:
        return f"{self.source}:{self.external_id}"


class SyncRun(models.Model):
    """One run of the directory sync: when, whether it only looked (dry run), what it changed or why it failed."""

    started_at = models.DateTimeField(_("started"), db_index=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    dry_run = models.BooleanField(_("dry run"), default=False)
    counts = models.JSONField(_("changes"), default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-started_at"]
        verbose_name = _("directory sync")
        verbose_name_plural = _("directory syncs")

    def __str__(self) -> str:
        return f"sync {self.started_at:%Y-%m-%d %H:%M}"
