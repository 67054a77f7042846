"""Grants of conditional content. Requests and decisions that create them come with the access
process; the policy already honours an active grant."""

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
