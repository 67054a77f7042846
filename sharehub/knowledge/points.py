"""Recognition: points for what other departments did with a person's or a department's work.

Every point comes from one `Credit` row (who reused what, when), so "why do I have these points" is the list
of those rows. A credit is written only when someone of another department acts: same-department activity,
self-activity and repeats (each person once per item per kind per month) earn nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from sharehub.knowledge.models import Credit
from sharehub.org.models import Membership


def month_of(moment: datetime | None = None) -> date:
    moment = (moment or timezone.now()).astimezone(UTC)
    return date(moment.year, moment.month, 1)


def _departments_of(user_id: int) -> set[int]:
    return set(Membership.objects.filter(user_id=user_id).values_list("department_id", flat=True))


def credit(
    kind: str,
    *,
    actor,
    item: str,
    item_label: str = "",
    person=None,
    department_id: int | None,
    actor_department_id: int | None = None,
    when: datetime | None = None,
) -> Credit | None:
    """Credit `person` (and `department_id`) for `actor`'s reuse of `item` ("resource:12", "answer:7", ...).

    Returns None, writing nothing, when the act earns nothing: no actor, the actor is the person credited, or
    the actor belongs to the credited department; or it was already credited this month. Call it inside the
    transaction of the act itself."""
    if actor is None or getattr(actor, "pk", None) is None:
        return None
    person_id = getattr(person, "pk", person)
    if person_id is not None and person_id == actor.pk:
        return None
    actor_departments = _departments_of(actor.pk)
    if department_id is not None and department_id in actor_departments:
        return None
    if actor_department_id is None and actor_departments:
        actor_department_id = min(actor_departments)
    row = Credit(
        kind=kind,
        actor_id=actor.pk,
        actor_department_id=actor_department_id,
        person_id=person_id,
        department_id=department_id,
        item=item,
        item_label=item_label[:200],
        month=month_of(when),
    )
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError:  # already credited this month
        return None
    return row


def credited_person_id(resource) -> int | None:
    """Whose work a resource is: an article's credited person (its author, or the answerer it was made from),
    otherwise the resource's steward, otherwise whoever created it."""
    article = getattr(resource, "article", None) if resource.kind == "article" else None
    if article is not None and article.credited_to_id is not None:
        return article.credited_to_id
    return resource.steward_id or resource.created_by_id


def credit_for_resource(kind: str, *, actor, resource, when: datetime | None = None) -> Credit | None:
    """`credit` for a reuse of a catalog resource (an article included), credited to its owner department
    and to `credited_person_id`."""
    return credit(
        kind,
        actor=actor,
        item=f"resource:{resource.pk}",
        item_label=f"{resource.code} {resource.title}",
        person=credited_person_id(resource),
        department_id=resource.owner_department_id,
        when=when,
    )


def register() -> None:
    """Called once from KnowledgeConfig.ready: the log reader for grants, the read receiver, descriptions."""
