"""Sessions made before directory sign-in name Django's ModelBackend, which is no longer listed in
AUTHENTICATION_BACKENDS, so Django would sign their holders out. Rename it in each stored session to the
backend that took its place for local passwords."""

from django.db import migrations

OLD = "django.contrib.auth.backends.ModelBackend"
NEW = "sharehub.directory.backends.LocalPasswordBackend"


def rename_backend(apps, schema_editor):
    from django.contrib.sessions.backends.db import SessionStore

    Session = apps.get_model("sessions", "Session")
    store = SessionStore()
    for session in Session.objects.filter(expire_date__isnull=False).iterator():
        data = store.decode(session.session_data)
        if data.get("_auth_user_backend") == OLD:
            data["_auth_user_backend"] = NEW
            session.session_data = store.encode(data)
            session.save(update_fields=["session_data"])


class Migration(migrations.Migration):
    dependencies = [
        ("directory", "0001_initial"),
        ("sessions", "0001_initial"),
    ]

    operations = [migrations.RunPython(rename_backend, migrations.RunPython.noop, elidable=True)]
