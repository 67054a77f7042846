"""SQLite: the facet table (see SqliteBackend.create_facets), a narrow copy of each entry's facet
columns keyed by the resource id as rowid, kept by triggers on the entries; an admin's search reads
its matches' facets and times there. PostgreSQL: nothing."""

from django.db import migrations


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from sharehub.search.backends import SqliteBackend

    with schema_editor.connection.cursor() as cursor:
        SqliteBackend().create_facets(cursor)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        return
    from sharehub.search.backends import SqliteBackend

    with schema_editor.connection.cursor() as cursor:
        SqliteBackend().drop_facets(cursor)


class Migration(migrations.Migration):
    dependencies = [("search", "0004_access_terms")]

    operations = [migrations.RunPython(forward, backward)]
