"""Every resource's access terms beside its text (see search/backends.py): an `access` column of the
FTS5 table on SQLite (the table is rebuilt with its rows when it lacks one), an `access_vec` tsvector
with a GIN index on PostgreSQL; triggers on resources, scope departments and grants keep them in the
transaction of each change. A person's search then prefilters by them inside the full-text index."""

from django.db import migrations

MIRRORED = ("owner_department_id", "kind", "status", "sharing_type", "scope_all", "updated_at", "published_at")


def forward(apps, schema_editor):
    from sharehub.search.backends import backend_for

    with schema_editor.connection.cursor() as cursor:
        backend_for(schema_editor.connection.vendor).create_schema(cursor, MIRRORED, access=True, facets=False)


def backward(apps, schema_editor):
    from sharehub.search.backends import backend_for

    with schema_editor.connection.cursor() as cursor:
        backend_for(schema_editor.connection.vendor).drop_access(cursor)


class Migration(migrations.Migration):
    dependencies = [
        ("access", "0004_asked_period_and_fields"),
        ("catalog", "0005_conditional_sharing"),
        ("search", "0003_entry_published_at"),
    ]

    operations = [migrations.RunPython(forward, backward)]
