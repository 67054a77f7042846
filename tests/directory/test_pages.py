"""The mapping rules page for organization admins: add, edit, order, delete, preview; both languages."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from sharehub.directory import services
from sharehub.directory.models import DirectoryAccount, MappingRule
from sharehub.directory.rules import Identity
from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db):
    return factories.person("orgadmin", admin=True)


@pytest.fixture
def directory_people(departments):
    """Three people as a directory described them (what a sign-in or a sync stores)."""
    made = {}
    for username, groups, department in [
        ("zhao", ["cn=tax-stewards,ou=groups,dc=example,dc=org"], "税务局"),
        ("qian", [], "税务局"),
        ("sun", [], "卫生健康委员会"),
    ]:
        identity = Identity(
            source="ldap",
            external_id=username,
            username=username,
            display_name=username.title(),
            groups=tuple(groups),
            attributes={"department": [department]},
        )
        made[username] = services.provision(identity).user
    return made


def test_only_organization_admins_see_the_page(client_for, people):
    assert client_for(people["tax_steward"]).get(reverse("directory:rules")).status_code == 404
    assert client_for(people["tax_steward"]).get(reverse("directory:rule_preview")).status_code == 404
    html = client_for(people["admin"]).get(reverse("directory:rules")).content.decode()
    assert "Mapping rules" in html and "No rules yet" in html
    assert reverse("directory:rules") in client_for(people["admin"]).get(reverse("org:manage")).content.decode()
    assert client_for(people["tax_member"]).get(reverse("org:manage")).status_code == 404


def test_add_rules_in_order_and_people_follow_them(client_for, admin, departments, directory_people):
    client = client_for(admin)
    response = client.post(
        reverse("directory:rules"),
        {
            "kind": "attribute",
            "attribute": "department",
            "value": "税务局",
            "department": departments["tax"].pk,
            "role": "member",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    client.post(
        reverse("directory:rules"),
        {
            "kind": "group",
            "value": "CN=Tax-Stewards, OU=Groups, DC=example, DC=org",
            "department": departments["tax"].pk,
            "role": "steward",
            "is_active": "on",
        },
    )
    member_rule, steward_rule = MappingRule.objects.order_by("position")
    html = client.get(reverse("directory:rules")).content.decode()
    assert html.index("department = 税务局") < html.index("CN=Tax-Stewards")
    assert Event.objects.filter(action="directory.rule_created").count() == 2

    # the member rule comes first, so it decides zhao's role in 税务局 ...
    zhao = directory_people["zhao"]
    identity = Identity(
        source="ldap",
        external_id="zhao",
        username="zhao",
        groups=("cn=tax-stewards,ou=groups,dc=example,dc=org",),
        attributes={"department": ["税务局"]},
    )
    services.provision(identity)
    assert zhao.memberships.get().role == "member"
    # ... until the steward rule is moved above it
    assert client.post(reverse("directory:rule_move", args=[steward_rule.pk]), {"direction": "up"}).status_code == 302
    assert list(MappingRule.objects.order_by("position").values_list("pk", flat=True)) == [
        steward_rule.pk,
        member_rule.pk,
    ]
    services.provision(identity)
    assert zhao.memberships.get().role == "steward"
    assert Event.objects.filter(action="directory.rule_moved").exists()


def test_bad_rules_are_refused_naming_the_field(client_for, admin, departments):
    client = client_for(admin)
    response = client.post(
        reverse("directory:rules"),
        {"kind": "attribute", "attribute": "", "value": "x", "department": departments["tax"].pk, "role": "member"},
    )
    assert response.status_code == 422
    assert "Name the attribute" in response.content.decode()
    response = client.post(
        reverse("directory:rules"), {"kind": "group", "value": "", "department": "999999", "role": "boss"}
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert "Choose a department." in html and "Choose one of: member, steward, head." in html
    assert "Give the group" in html
    assert not MappingRule.objects.exists()


def test_edit_and_delete(client_for, admin, departments):
    rule = services.create_rule(None, kind="group", value="staff", department=departments["tax"])
    client = client_for(admin)
    assert client.get(reverse("directory:rule_edit", args=[rule.pk])).status_code == 200
    response = client.post(
        reverse("directory:rule_edit", args=[rule.pk]),
        {"kind": "group", "value": "staff", "department": departments["hr"].pk, "role": "head"},
    )
    assert response.status_code == 302
    rule.refresh_from_db()
    assert (rule.department, rule.role, rule.is_active) == (departments["hr"], "head", False)
    assert client.post(reverse("directory:rule_delete", args=[rule.pk])).status_code == 302
    assert not MappingRule.objects.exists()
    assert Event.objects.filter(action__in=["directory.rule_updated", "directory.rule_deleted"]).count() == 2
    assert client.get(reverse("directory:rule_edit", args=[rule.pk])).status_code == 404


def test_preview_shows_who_a_rule_would_match(client_for, admin, departments, directory_people):
    client = client_for(admin)
    url = reverse("directory:rule_preview")
    response = client.get(
        url, {"kind": "attribute", "attribute": "Department", "value": "税务局"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "Matches 2 of 3 people" in html and "Zhao" in html and "Qian" in html and "Sun" not in html
    assert "<html" not in html  # a fragment for htmx
    rule = services.create_rule(
        None,
        kind="group",
        value="cn=tax-stewards,ou=groups,dc=example,dc=org",
        department=departments["tax"],
        role="steward",
    )
    html = client.get(url, {"rule": rule.pk}).content.decode()
    assert "Matches 1 of 3 people" in html and "Zhao" in html and "<html" in html


def test_page_in_chinese_at_phone_width_markup(client_for, admin, departments, directory_people):
    services.create_rule(None, kind="attribute", attribute="department", value="税务局", department=departments["tax"])
    client = client_for(admin)
    client.post(reverse("set_language"), {"language": "zh-hans"})
    with translation.override("zh-hans"):
        html = client.get(reverse("directory:rules"), headers={"Accept-Language": "zh-hans"}).content.decode()
    assert "目录登录" in html and "映射规则" in html and "数据管理员" in html
    assert "style=" not in html and "<script>" not in html


def test_directory_people_are_counted(client_for, admin, directory_people):
    assert DirectoryAccount.objects.count() == 3
    html = client_for(admin).get(reverse("directory:rules")).content.decode()
    assert "3 people from LDAP, 0 from OpenID Connect" in html
