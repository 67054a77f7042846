"""Reads for the directory sign-in page: the rules, the last syncs, and who a rule would match."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from sharehub.directory import rules as matching
from sharehub.directory.models import DirectoryAccount, MappingRule, SyncRun
from sharehub.errors import NotFound
from sharehub.org.models import Department, User
from sharehub.policy.engine import OrgAction, can

PREVIEW_SHOWN = 20


def _require_admin(actor) -> None:
    """Only organization admins know this page exists (others get 404)."""
    if not can(actor, OrgAction.MANAGE_ORG):
        raise NotFound()


@dataclass
class RulesPage:
    rules: list[MappingRule]
    departments: list[Department]
    runs: list[SyncRun]
    accounts: dict[str, int]


def rules_page(actor) -> RulesPage:
    _require_admin(actor)
    counts = dict(
        DirectoryAccount.objects.order_by().values_list("source").annotate(n=Count("pk")).values_list("source", "n")
    )
    return RulesPage(
        rules=list(MappingRule.objects.select_related("department").order_by("position", "pk")),
        departments=list(Department.objects.filter(archived_at__isnull=True).order_by("path")),
        runs=list(SyncRun.objects.order_by("-started_at")[:5]),
        accounts=counts,
    )


def access_rule(actor, pk: int) -> MappingRule:
    _require_admin(actor)
    rule = MappingRule.objects.select_related("department").filter(pk=pk).first()
    if rule is None:
        raise NotFound()
    return rule


@dataclass
class Preview:
    total: int
    people: list[User]
    accounts: int  # how many directory accounts were looked at


def preview(actor, rule) -> Preview:
    """Who this rule (saved or not: anything with kind, attribute and value) matches, by what each person's
    directory said at their last sign-in or sync."""
    _require_admin(actor)
    matched, looked = [], 0
    for user_id, groups, attributes in DirectoryAccount.objects.order_by("user_id").values_list(
        "user_id", "groups", "attributes"
    ):
        looked += 1
        if matching.matches(rule, groups or [], attributes or {}):
            matched.append(user_id)
    unique = list(dict.fromkeys(matched))
    shown = User.objects.filter(pk__in=unique[:PREVIEW_SHOWN]).order_by("username")
    return Preview(total=len(unique), people=list(shown), accounts=looked)
