from __future__ import annotations

import io

import pytest
from django.core.management.base import CommandError

from sharehub.events.models import Event
from sharehub.org.models import User
from tests import factories

pytestmark = pytest.mark.django_db


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_createadmin_with_a_password(run):
    result = run("createadmin", "--username", "boss", "--password", "Long-enough-9", "--display-name", "王主任")
    user = User.objects.get(username="boss")
    assert user.is_org_admin and user.is_staff
    assert user.display_name == "王主任"
    assert user.check_password("Long-enough-9")
    assert "Long-enough-9" not in result.stdout
    assert Event.objects.filter(action="person.created", target_id=str(user.pk)).exists()


def test_createadmin_generates_a_password_when_input_is_not_a_terminal(run, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO())
    result = run("createadmin")
    user = User.objects.get(username="admin")
    password = result.stdout.split("Password: ")[1].split()[0]
    assert user.check_password(password)
    assert len(password) >= 16


def test_createadmin_asks_on_a_terminal(run, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal())
    answers = iter(["Typed-secret-77", "Typed-secret-77"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    result = run("createadmin", "--username", "root")
    assert User.objects.get(username="root").check_password("Typed-secret-77")
    assert "Password:" not in result.stdout


def test_createadmin_refuses_two_different_passwords(run, monkeypatch):
    monkeypatch.setattr("sys.stdin", Terminal())
    answers = iter(["Typed-secret-77", "Typed-secret-78"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    with pytest.raises(CommandError, match="do not match"):
        run("createadmin")
    assert not User.objects.exists()


def test_createadmin_refuses_an_existing_username(run):
    factories.person("Admin")
    with pytest.raises(CommandError, match="exists already"):
        run("createadmin", "--password", "Long-enough-9")


def test_createadmin_refuses_a_weak_password(run):
    with pytest.raises(CommandError, match="password"):
        run("createadmin", "--password", "123")
    assert not User.objects.exists()
