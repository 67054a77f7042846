"""Index entries mirror `published_at` too: the policy shows an archived resource to other departments
only if it was published before (a draft archived unpublished stays with its owner). The triggers are
recreated to copy the new column and every entry is backfilled."""

from django.db import migrations, models

MIRRORED_BEFORE = ("owner_department_id", "kind", "status", "sharing_type", "scope_all", "updated_at")
MIRRORED = (*MIRRORED_BEFORE, "published_at")


def _schema(columns):
    def run(apps, schema_editor):
        from sharehub.search.backends import backend_for

        with schema_editor.connection.cursor() as cursor:
            backend_for(schema_editor.connection.vendor).create_schema(cursor, columns, access=False)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_conditional_sharing"),
        ("org", "0002_labels"),
        ("search", "0002_fulltext"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="resourceentry", name="search_entry_policy_columns"),
        migrations.AddField(model_name="resourceentry", name="published_at", field=models.DateTimeField(null=True)),
        migrations.AddIndex(
            model_name="resourceentry",
            index=models.Index(
                fields=[
                    "resource",
                    "owner_department",
                    "status",
                    "sharing_type",
                    "scope_all",
                    "kind",
                    "updated_at",
                    "published_at",
                ],
                name="search_entry_policy_columns",
            ),
        ),
        migrations.RunPython(_schema(MIRRORED), _schema(MIRRORED_BEFORE)),
    ]
