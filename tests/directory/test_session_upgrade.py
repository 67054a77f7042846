"""Upgrading to directory sign-in keeps people signed in: sessions that name Django's ModelBackend are
renamed to the local password backend by directory migration 0002."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore

from tests import factories

pytestmark = pytest.mark.django_db

upgrade = importlib.import_module("sharehub.directory.migrations.0002_sessions_name_local_backend")


def _session_for(user, backend: str) -> str:
    store = SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = backend
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.create()
    return store.session_key


def test_a_session_made_before_the_upgrade_stays_signed_in(client):
    person = factories.person(username="before-upgrade")
    key = _session_for(person, upgrade.OLD)
    client.cookies[settings.SESSION_COOKIE_NAME] = key
    assert client.get("/tokens/").status_code == 302  # the old backend is no longer listed: signed out

    upgrade.rename_backend(apps, None)

    assert SessionStore(session_key=key).load()["_auth_user_backend"] == upgrade.NEW
    assert client.get("/tokens/").status_code == 200


def test_other_sessions_are_left_as_they_are():
    person = factories.person(username="directory-person")
    key = _session_for(person, "sharehub.directory.backends.DirectoryBackend")
    anonymous = SessionStore()
    anonymous["django_language"] = "zh-hans"
    anonymous.create()

    upgrade.rename_backend(apps, None)

    assert SessionStore(session_key=key).load()["_auth_user_backend"].endswith("DirectoryBackend")
    assert SessionStore(session_key=anonymous.session_key).load() == {"django_language": "zh-hans"}
