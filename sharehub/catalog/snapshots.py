"""What a version records, and how two versions are compared."""

from __future__ import annotations

import difflib

from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import Resource

# field name -> label shown in the diff
VERSIONED_FIELDS = {
    "title": _("title"),
    "summary": _("summary"),
    "body": _("body"),
    "tags": _("tags"),
    "update_frequency": _("update frequency"),
    "category": _("category"),
    "data_grade": _("data grade"),
    "steward": _("steward"),
    "project": _("project"),
    "link_url": _("link"),
    "dataset_fields": _("fields"),
    "related": _("related resources"),
    "sharing_type": _("sharing type"),
    "scope": _("scope"),
    "conditions": _("sharing conditions"),
    "restriction_basis": _("basis for not sharing"),
    "terms_of_use": _("terms of use"),
    "max_grant_days": _("longest grant (days)"),
    "requires_head_approval": _("requests also need the head's approval"),
}

# Fields whose value is a list of codes of other resources. What they name is filtered by the policy
# each time a snapshot is shown (invariant 10), not when it was saved: see `queries.shown_snapshots`.
RESOURCE_CODE_FIELDS = ("related",)


def snapshot(resource: Resource) -> dict:
    """A JSON-able picture of the versioned fields, with names rather than ids so old versions
    still read well after a department or tag is renamed."""
    return {
        "title": resource.title,
        "summary": resource.summary,
        "body": resource.body,
        "tags": sorted(t.name for t in resource.tags.all()),
        "update_frequency": resource.update_frequency,
        "category": str(resource.category) if resource.category_id else "",
        "data_grade": str(resource.data_grade) if resource.data_grade_id else "",
        "steward": resource.steward.get_username() if resource.steward_id else "",
        "project": str(resource.project) if resource.project_id else "",
        "link_url": resource.link_url,
        "dataset_fields": resource.dataset_fields,
        "related": sorted(r.code for r in resource.related.all()),
        "sharing_type": resource.sharing_type,
        "scope": "*" if resource.scope_all else sorted(d.name for d in resource.scope_departments.all()),
        "conditions": resource.conditions,
        "restriction_basis": resource.restriction_basis,
        "terms_of_use": resource.terms_of_use,
        "max_grant_days": resource.max_grant_days,
        "requires_head_approval": resource.requires_head_approval,
    }


def referenced_codes(snapshots) -> set[str]:
    """The codes of other resources that these snapshots name."""
    return {
        code
        for snap in snapshots
        for name in RESOURCE_CODE_FIELDS
        for code in (snap.get(name) or [])
        if isinstance(code, str)
    }


def without_codes(snap: dict, shown: set[str]) -> dict:
    """A copy of `snap` in which the code fields keep only the codes in `shown`."""
    kept = dict(snap)
    for name in RESOURCE_CODE_FIELDS:
        if name in kept and isinstance(kept[name], list):
            kept[name] = [code for code in kept[name] if code in shown]
    return kept


def _as_lines(value) -> list[str]:
    if isinstance(value, list):
        return [
            str(item) if not isinstance(item, dict) else ", ".join(f"{k}={v}" for k, v in item.items())
            for item in value
        ]
    return str(value or "").splitlines()


def diff_snapshots(old: dict, new: dict) -> list[dict]:
    """Changed fields with a unified line diff each: [{"field", "label", "lines": [(kind, text)]}]."""
    changes = []
    for name, label in VERSIONED_FIELDS.items():
        before, after = old.get(name), new.get(name)
        if before == after:
            continue
        lines = []
        for line in difflib.unified_diff(_as_lines(before), _as_lines(after), lineterm="", n=2):
            if line.startswith(("---", "+++")):
                continue
            kind = {"+": "added", "-": "removed", "@": "hunk"}.get(line[:1], "same")
            lines.append((kind, line[1:] if kind != "hunk" else line))
        changes.append({"field": name, "label": str(label), "lines": lines})
    return changes
