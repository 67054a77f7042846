"""What data exchange holds per department, for the department tree's merge (sharehub.org.tree, registered
in ExchangeConfig.ready): the datasets of the resources it owns (they move with them), the consents of data
subjects given to it, and the corrections it reported."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from sharehub.exchange.models import Consent, Correction, Dataset
from sharehub.org import tree
from sharehub.org.models import Department


def _count_datasets(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Dataset.objects.all(), "resource__owner_department_id", ids)


def _dataset_examples(department: Department, limit: int) -> list[str]:
    found = Dataset.objects.filter(resource__owner_department=department).order_by("-resource__updated_at")
    return [
        f"{code} {title} ({records})"
        for code, title, records in found.values_list("resource__code", "resource__title", "record_count")[:limit]
    ]


def _move_datasets(source: Department, target: Department) -> None:
    """Nothing of their own: a dataset is its resource's, and the resources move."""


def _active_consents():
    return Consent.objects.filter(withdrawn_at__isnull=True, valid_until__gt=timezone.now())


def _count_consents(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_active_consents(), "grantee_department_id", ids)


def _consent_examples(department: Department, limit: int) -> list[str]:
    found = _active_consents().filter(grantee_department=department).select_related("dataset__resource")
    return [f"{c.dataset.resource.code} · {c.subject_hint or '—'} · {c.get_purpose_display()}" for c in found[:limit]]


def _move_consents(source: Department, target: Department) -> None:
    """Every consent given to the source (withdrawn and ended ones too, for the record) is the target's now."""
    Consent.objects.filter(grantee_department=source).update(grantee_department=target)


def _open_corrections():
    return Correction.objects.filter(status=Correction.Status.OPEN)


def _count_corrections(ids: list[int]) -> dict[int, int]:
    return tree.count_by(_open_corrections(), "reporter_department_id", ids)


def _correction_examples(department: Department, limit: int) -> list[str]:
    found = _open_corrections().filter(reporter_department=department).select_related("dataset__resource")
    return [f"{c.dataset.resource.code} · {c.field}" for c in found.order_by("due_at")[:limit]]


def _move_corrections(source: Department, target: Department) -> None:
    Correction.objects.filter(reporter_department=source).update(reporter_department=target)


def register() -> None:
    tree.register_holding(
        "datasets",
        _("Datasets"),
        count=_count_datasets,
        examples=_dataset_examples,
        move=_move_datasets,
        on_merge=_("They move with their resources, records and all."),
        order=42,
    )
    tree.register_holding(
        "consents",
        _("Consents given to it"),
        count=_count_consents,
        examples=_consent_examples,
        move=_move_consents,
        on_merge=_("The target holds them, for the same purposes and periods."),
        order=66,
    )
    tree.register_holding(
        "corrections",
        _("Open corrections it reported"),
        count=_count_corrections,
        examples=_correction_examples,
        move=_move_corrections,
        order=68,
    )
