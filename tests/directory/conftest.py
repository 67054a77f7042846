"""Directory tests run against a real slapd (tests/directory/slapd.py) started for each test."""

from __future__ import annotations

import os

import pytest

from sharehub.directory.conf import LdapSettings
from tests import factories
from tests.directory import slapd as slapd_server


@pytest.fixture(autouse=True)
def _directories_off(settings):
    """No directory unless a test turns one on (the developer's environment may set SHAREHUB_LDAP_URL)."""
    settings.DIRECTORY_LDAP = None
    settings.DIRECTORY_OIDC = None
    settings.DIRECTORY_LOCAL_PASSWORDS = True
    settings.DIRECTORY_SYNC_MINUTES = 60


@pytest.fixture
def slapd(tmp_path):
    if not slapd_server.available():
        message = (
            f"slapd is not installed (looked for {slapd_server.SLAPD}): the LDAP tests need Debian's slapd and "
            "ldap-utils; run scripts/install-slapd.sh (make test does)"
        )
        if os.environ.get("CI"):
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    server = slapd_server.Slapd(tmp_path / "slapd").start()
    yield server
    server.remove()


def ldap_settings(server, **overrides) -> LdapSettings:
    values = {
        "url": server.url,
        "bind_dn": slapd_server.BIND_DN,
        "bind_password": slapd_server.BIND_PASSWORD,
        "user_base": slapd_server.PEOPLE,
        "user_filter": "(&(objectClass=inetOrgPerson)(uid=%(user)s))",
        "group_base": slapd_server.GROUPS,
        "group_filter": "(objectClass=groupOfNames)",
        "name_attr": "displayName",
        "page_size": 10,
        "timeout": 5,
    }
    values.update(overrides)
    return LdapSettings(**values)


@pytest.fixture
def ldap_on(settings, slapd):
    settings.DIRECTORY_LDAP = ldap_settings(slapd)
    return slapd


@pytest.fixture
def departments(db):
    return {key: factories.department(name, key.upper()) for key, name in slapd_server.DEPARTMENTS.items()}


@pytest.fixture
def mapping(departments):
    """Rules an admin would write: the tax stewards group, the hr heads group, and each department by the
    departmentNumber attribute."""
    from sharehub.directory import services

    made = [
        services.create_rule(
            None,
            kind="group",
            value=slapd_server.group_dn("tax-stewards"),
            department=departments["tax"],
            role="steward",
        ),
        services.create_rule(
            None, kind="group", value=slapd_server.group_dn("hr-heads"), department=departments["hr"], role="head"
        ),
    ]
    for key, name in slapd_server.DEPARTMENTS.items():
        made.append(
            services.create_rule(
                None, kind="attribute", attribute="departmentNumber", value=name, department=departments[key]
            )
        )
    return made
