"""Reads of datasets and their records, always through the policy: what a caller sees of each field
(in full, masked or not at all) is decided in `policy.fields`, and applied here, before any value
leaves this module."""

from __future__ import annotations

from collections import defaultdict

from sharehub.exchange.models import DatasetField
from sharehub.exchange.schema import as_dict


def field_lists(dataset_ids: list[int]) -> dict[int, list[dict]]:
    """The field lists of several datasets in one query, by dataset (= resource) id."""
    lists: dict[int, list[dict]] = defaultdict(list)
    for field in DatasetField.objects.filter(dataset_id__in=dataset_ids).order_by("dataset_id", "position"):
        lists[field.dataset_id].append(as_dict(field))
    return dict(lists)
