"""What directory sign-in holds per department, for the department tree's merge and archive
(sharehub.org.tree, registered in DirectoryConfig.ready): the mapping rules that place people in it. An
archived department with rules would have them place nobody, so rules keep a department from being archived."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.directory.models import DirectoryAccount, MappingRule
from sharehub.org import tree
from sharehub.org.models import Department


def _count_rules(ids: list[int]) -> dict[int, int]:
    return tree.count_by(MappingRule.objects.all(), "department_id", ids)


def _rule_examples(department: Department, limit: int) -> list[str]:
    found = MappingRule.objects.filter(department=department).select_related("department")
    return [str(rule) for rule in found.order_by("position", "pk")[:limit]]


def _move_rules(source: Department, target: Department) -> None:
    """The rules place people in the target; what earlier syncs gave in the source is noted as given in the
    target, so a later sync takes back only what the rules gave."""
    MappingRule.objects.filter(department=source).update(department=target)
    for pk, granted in list(DirectoryAccount.objects.values_list("pk", "granted")):
        if not isinstance(granted, list) or not any(isinstance(g, list) and g[:1] == [source.pk] for g in granted):
            continue
        moved: dict[int, str] = {}
        for entry in granted:
            if not isinstance(entry, list) or len(entry) != 2:
                continue
            department_id, role = entry
            department_id = target.pk if department_id == source.pk else department_id
            if department_id not in moved or tree.ROLE_RANK.get(role, 0) > tree.ROLE_RANK.get(moved[department_id], 0):
                moved[department_id] = role
        DirectoryAccount.objects.filter(pk=pk).update(granted=[[d, r] for d, r in moved.items()])


def register() -> None:
    tree.register_holding(
        "directory_rules",
        _("Directory mapping rules"),
        count=_count_rules,
        examples=_rule_examples,
        move=_move_rules,
        on_merge=_("They place people in the target instead."),
        blocks_archive=True,
        order=80,
    )
