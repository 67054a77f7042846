"""SHAREHUB_EMAIL_URL is read into Django's email settings, or refused with a sentence naming it."""

from __future__ import annotations

import pytest

from sharehub.config import ConfigError, email_settings


def test_an_smtp_url_with_starttls_and_an_encoded_password():
    got = email_settings("smtp://notice%40example.org:p%40ss%3Aw0rd@mail.example.org:587?starttls=true&timeout=5")
    assert got["EMAIL_HOST"] == "mail.example.org" and got["EMAIL_PORT"] == 587
    assert got["EMAIL_HOST_USER"] == "notice@example.org" and got["EMAIL_HOST_PASSWORD"] == "p@ss:w0rd"
    assert got["EMAIL_USE_TLS"] is True and got["EMAIL_USE_SSL"] is False and got["EMAIL_TIMEOUT"] == 5


def test_smtps_defaults_to_port_465_and_nothing_means_no_email():
    got = email_settings("smtps://mail.example.org")
    assert got["EMAIL_PORT"] == 465 and got["EMAIL_USE_SSL"] is True and got["EMAIL_USE_TLS"] is False
    assert email_settings("") == {}


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.org", "smtp://", "smtp://host:notaport", "smtp://host?tls=1", "smtp://host?timeout=0"],
)
def test_a_bad_url_is_refused_by_name(url):
    with pytest.raises(ConfigError, match="SHAREHUB_EMAIL_URL"):
        email_settings(url)
