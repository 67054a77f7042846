from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from sharehub.org.models import ApiToken
from sharehub.org.services import user_for_token
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    return factories.person("alice")


def test_token_create_prints_a_working_token_last(run, alice):
    result = run("token", "create", "alice", "--name", "laptop")
    raw = result.last_line
    assert raw.startswith("shr_")
    assert user_for_token(raw) == alice
    token = ApiToken.objects.get(user=alice)
    assert token.name == "laptop"
    assert raw.startswith(token.prefix)


def test_token_create_for_a_service_account(run):
    department = factories.department("大数据管理局", "DSJ")
    from sharehub.org.services import create_service_account

    robot = create_service_account(None, department=department, username="erp-sync")
    raw = run("token", "create", "erp-sync").last_line
    assert user_for_token(raw) == robot
    assert ApiToken.objects.get(user=robot).name == "cli"


def test_token_list_and_revoke(run, alice):
    bob = factories.person("bob")
    raw = run("token", "create", "alice", "--name", "laptop").last_line
    run("token", "create", "bob", "--name", "ci")
    token = ApiToken.objects.get(user=alice)

    listing = run("token", "list").stdout
    assert "laptop" in listing and "ci" in listing and token.prefix in listing
    assert raw not in listing
    only_bob = run("token", "list", "bob").stdout
    assert "ci" in only_bob and "laptop" not in only_bob

    result = run("token", "revoke", str(token.pk))
    assert "Revoked" in result.stdout
    assert user_for_token(raw) is None
    assert "no" in run("token", "list", "bob").stdout
    assert "already" in run("token", "revoke", str(token.pk)).stdout
    assert ApiToken.objects.get(user=bob).revoked_at is None


def test_token_list_when_there_are_none(run, alice):
    assert "No tokens" in run("token", "list").stdout


def test_token_errors_are_one_sentence(run, alice):
    with pytest.raises(CommandError, match="no user named 'carol'"):
        run("token", "create", "carol")
    with pytest.raises(CommandError, match="no token with id 404"):
        run("token", "revoke", "404")
    with pytest.raises(CommandError, match="no user named"):
        run("token", "list", "carol")
    with pytest.raises(CommandError):
        run("token")
