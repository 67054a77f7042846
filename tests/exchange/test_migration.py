"""The move of `catalog.Resource.dataset_fields` (JSON) into exchange's field rows, both ways."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0009_draft_review"), ("exchange", None)]
AFTER = [("catalog", "0010_dataset_fields_moved"), ("exchange", "0002_fields_from_catalog")]


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return MigrationExecutor(connection).loader.project_state([t for t in targets if t[1] is not None]).apps


@pytest.mark.django_db(transaction=True)
def test_field_lists_move_into_rows_and_back(org_units):
    apps = migrate(BEFORE)
    Resource = apps.get_model("catalog", "Resource")
    common = {"owner_department_id": org_units["tax"].pk, "updated_at": "2026-01-01T00:00:00Z"}
    legacy = [
        {"name": "tax_id", "type": "string", "sensitivity": "sensitive", "description": "纳税人识别号"},
        "plain_name",
        {"name": "amount", "type": "decimal", "label": "金额"},
        {"name": "tax_id", "type": "text"},  # listed twice: the first one counts
    ]
    dataset = Resource.objects.create(code="SWJ-1", title="t", kind="dataset", dataset_fields=legacy, **common)
    Resource.objects.create(code="SWJ-2", title="d", kind="dataset", dataset_fields=[], **common)
    try:
        apps = migrate(AFTER)
        DatasetField = apps.get_model("exchange", "DatasetField")
        rows = list(DatasetField.objects.filter(dataset_id=dataset.pk).order_by("position").values())
        assert [r["name"] for r in rows] == ["tax_id", "plain_name", "amount"]
        assert (rows[0]["type"], rows[0]["sensitivity"], rows[0]["masking"]) == ("text", "sensitive", "partial")
        assert rows[2]["label_zh"] == "金额" and rows[2]["type"] == "decimal"
        assert apps.get_model("exchange", "Dataset").objects.count() == 2  # every dataset gets its row
        assert apps.get_model("exchange", "SchemaVersion").objects.filter(dataset_id=dataset.pk, number=1).exists()
        apps = migrate(BEFORE)
        back = apps.get_model("catalog", "Resource").objects.get(pk=dataset.pk).dataset_fields
        assert [f["name"] for f in back] == ["tax_id", "plain_name", "amount"] and back[2]["label"] == "金额"
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
