"""What a reader sees of each field of a dataset's records: in full, masked by the field's rule, or not
at all; and whose records they see when the dataset needs the data subject's consent.

The rules, for a reader who may READ the dataset (see `engine.can`):
  admin, member of the owner department    every field in full, every record
  grantee, field named by an active grant  in full (a secret field only this way)
  grantee of a grant naming no fields      every field but the secret ones in full
  anyone else who reads                    each field by its masking rule: none shows it, partial and
                                           hash show a masked form, hidden leaves it out; secret fields
                                           are left out whatever their rule
  consent required, not owner or admin     only records whose subject consented to one of the reader's
                                           departments, for the purpose the reader declares, at read time
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Q

from sharehub.catalog.models import Resource
from sharehub.policy.engine import Action, Decision, active_grants_on, can, context_for


class FieldView(StrEnum):
    FULL = "full"
    MASKED = "masked"
    HIDDEN = "hidden"


@dataclass(frozen=True)
class RecordAccess:
    decision: Decision
    views: dict[str, FieldView]  # field name -> what the reader sees of it
    sees_all: bool = False  # owner or admin: no masking, no consent filter
    consent_departments: frozenset[int] = frozenset()  # whose consents admit records (when consent is needed)
    grant_ids: tuple[int, ...] = ()  # the grants the views rely on, for the read event

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    def shown(self) -> list[str]:
        """The fields the reader gets a value for, in full or masked."""
        return [name for name, view in self.views.items() if view != FieldView.HIDDEN]

    def full(self) -> list[str]:
        return [name for name, view in self.views.items() if view == FieldView.FULL]


def record_access(actor, resource: Resource, fields, *, now=None) -> RecordAccess:
    """`fields`: the dataset's fields (objects or dicts with name, sensitivity and masking)."""
    decision = can(actor, Action.READ, resource, now=now)
    names = [_get(f, "name") for f in fields]
    if not decision:
        return RecordAccess(decision, dict.fromkeys(names, FieldView.HIDDEN))
    ctx = context_for(actor)
    if ctx.is_admin or resource.owner_department_id in ctx.department_ids:
        return RecordAccess(decision, dict.fromkeys(names, FieldView.FULL), sees_all=True)
    # Every active grant counts, whatever the sharing type: opening a conditional dataset keeps its grants, and
    # must not mask from a grantee the fields their grant names.
    grants = active_grants_on(ctx, resource, now)
    named = {name for grant in grants for name in grant.fields}
    whole = any(not grant.fields for grant in grants)
    views = {}
    for field in fields:
        name, sensitivity, rule = _get(field, "name"), _get(field, "sensitivity"), _get(field, "masking")
        if name in named or (whole and sensitivity != "secret"):
            views[name] = FieldView.FULL
        elif sensitivity == "secret" or rule == "hidden":
            views[name] = FieldView.HIDDEN
        elif rule == "none":
            views[name] = FieldView.FULL
        else:
            views[name] = FieldView.MASKED
    return RecordAccess(
        decision,
        views,
        consent_departments=ctx.department_ids,
        grant_ids=tuple(sorted(g.grant_id for g in grants if g.grant_id is not None)),
    )


def _get(field, name: str):
    return field[name] if isinstance(field, dict) else getattr(field, name)


def correction_filter(actor, resource: Resource) -> Q:
    """Which corrections (疑义校核) of a dataset the actor sees: all of them for members of the owner
    department and admins; otherwise the ones they reported or their departments reported."""
    ctx = context_for(actor)
    if not ctx.authenticated:
        return Q(pk__in=[])
    if ctx.is_admin or resource.owner_department_id in ctx.department_ids:
        return Q()
    return Q(reporter_id=ctx.user_id) | Q(reporter_department_id__in=ctx.department_ids)


def reporting_department(actor, wanted: int | None = None) -> int | None:
    """The department a correction is reported for: `wanted` when the actor belongs to it, else the
    actor's only (or first) department; None for someone in no department."""
    ctx = context_for(actor)
    if wanted is not None:
        return wanted if wanted in ctx.department_ids else None
    return min(ctx.department_ids) if ctx.department_ids else None
