"""The field list of a dataset now lives in exchange.DatasetField (moved by exchange 0002).

The column is dropped with ALTER TABLE ... DROP COLUMN rather than Django's SQLite table rebuild: the
search app's triggers on other tables name catalog_resource, and SQLite refuses to rename the rebuilt
table into place while they exist (an upgrade of an existing database failed that way)."""

from django.db import migrations

JSON_TYPE = {"postgresql": "jsonb NOT NULL DEFAULT '[]'::jsonb", "sqlite": "text NOT NULL DEFAULT '[]'"}


def drop(apps, schema_editor):
    schema_editor.execute("ALTER TABLE catalog_resource DROP COLUMN dataset_fields")


def add_back(apps, schema_editor):
    kind = JSON_TYPE[schema_editor.connection.vendor]
    schema_editor.execute(f"ALTER TABLE catalog_resource ADD COLUMN dataset_fields {kind}")


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0009_draft_review"),
        ("exchange", "0002_fields_from_catalog"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.RemoveField(model_name="resource", name="dataset_fields")],
            database_operations=[migrations.RunPython(drop, add_back)],
        ),
    ]
