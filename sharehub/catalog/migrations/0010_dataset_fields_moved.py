"""The field list of a dataset now lives in exchange.DatasetField (moved by exchange 0002)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_draft_review"),
        ("exchange", "0002_fields_from_catalog"),
    ]

    operations = [migrations.RemoveField(model_name="resource", name="dataset_fields")]
