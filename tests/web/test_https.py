"""Behind HTTPS (issue 10, 1.6): SHAREHUB_HTTPS=true makes `sharehub check --deploy` clean, and
X-Forwarded-Proto is believed only from SHAREHUB_TRUSTED_PROXIES."""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import subprocess
import sys

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _sharehub(tmp_path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """The `sharehub` command in a fresh process, so settings are read from this environment."""
    child = {k: v for k, v in os.environ.items() if not k.startswith("SHAREHUB_") and k != "SECRET_KEY"}
    child.update(SHAREHUB_DATA_DIR=str(tmp_path), SECRET_KEY=secrets.token_urlsafe(50), **env)
    return subprocess.run(
        [sys.executable, "-m", "sharehub", *args], env=child, capture_output=True, text=True, timeout=120
    )


def test_deploy_check_is_clean_with_https_on(tmp_path):
    result = _sharehub(tmp_path, "check", "--deploy", "--fail-level", "WARNING", SHAREHUB_HTTPS="true")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_without_https_the_deploy_check_names_what_is_missing(tmp_path):
    result = _sharehub(tmp_path, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0
    for check in ("security.W004", "security.W008", "security.W012", "security.W016"):
        assert check in result.stderr


SHOW = (
    "from django.conf import settings; import json; print(json.dumps({name: getattr(settings, name) for name in "
    "['SESSION_COOKIE_SECURE', 'CSRF_COOKIE_SECURE', 'SECURE_SSL_REDIRECT', 'SECURE_HSTS_SECONDS', "
    "'SECURE_HSTS_INCLUDE_SUBDOMAINS', 'SECURE_PROXY_SSL_HEADER']}))"
)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, [False, False, False, 0, False, None]),
        ({"SHAREHUB_HTTPS": "true"}, [True, True, True, 31536000, True, None]),
        (
            {"SHAREHUB_HTTPS": "true", "SHAREHUB_TRUSTED_PROXIES": "10.0.0.0/24"},
            [True, True, True, 31536000, True, ["HTTP_X_FORWARDED_PROTO", "https"]],
        ),
    ],
)
def test_https_settings(tmp_path, env, expected):
    result = _sharehub(tmp_path, "shell", "-c", SHOW, **env)
    assert result.returncode == 0, result.stderr
    assert list(json.loads(result.stdout.strip().splitlines()[-1]).values()) == expected


@pytest.fixture
def https_behind_proxy(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.TRUSTED_PROXIES = [ipaddress.ip_network("10.0.0.0/24")]


def test_plain_http_is_redirected_to_https(https_behind_proxy):
    response = Client().get("/accounts/login/", REMOTE_ADDR="10.0.0.2")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"


def test_a_trusted_proxy_says_the_request_came_over_https(https_behind_proxy):
    response = Client().get("/accounts/login/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000"


def test_anyone_else_saying_so_is_not_believed(https_behind_proxy):
    response = Client().get("/accounts/login/", REMOTE_ADDR="192.0.2.7", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 301
    assert "Strict-Transport-Security" not in response
