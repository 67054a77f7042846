"""The full-text structures of the database in use: an FTS5 table on SQLite, tsvector columns with
GIN indexes on PostgreSQL, and the triggers that copy the policy columns of every
resource into its index entry (see search/backends.py). `sharehub reindex` fills them."""

from django.db import migrations

# The resource columns the index entry mirrored when this migration was written (0003 adds one).
MIRRORED = ("owner_department_id", "kind", "status", "sharing_type", "scope_all", "updated_at")


def create(apps, schema_editor):
    from sharehub.search.backends import backend_for

    with schema_editor.connection.cursor() as cursor:
        backend_for(schema_editor.connection.vendor).create_schema(cursor, MIRRORED, access=False)


def drop(apps, schema_editor):
    from sharehub.search.backends import backend_for

    with schema_editor.connection.cursor() as cursor:
        backend_for(schema_editor.connection.vendor).drop_schema(cursor)


class Migration(migrations.Migration):
    dependencies = [("search", "0001_index")]

    operations = [migrations.RunPython(create, drop)]
