"""Department pages and the API token page."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from sharehub.events.models import Event
from sharehub.org import services
from sharehub.org.models import ApiToken
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def resources(org_units, people):
    tax = org_units["tax"]
    by = people["tax_steward"]
    return {
        "open": factories.resource(tax, by=by, title="税务公开目录"),
        "restricted": factories.resource(tax, by=by, sharing_type="restricted", title="税务内部机密台账"),
        "hr_scoped": factories.resource(tax, by=by, scope=[org_units["hr"]], title="仅人社可见"),
        "draft": factories.resource(tax, by=by, publish=False, title="税务草稿"),
        "social_open": factories.resource(org_units["social"], title="社保公开"),
    }


def _row_counts(response, department) -> tuple[int, int]:
    for row in response.context["rows"]:
        if row.department.pk == department.pk:
            return row.people, row.resources
    raise AssertionError(f"{department} not in the tree")


def test_departments_tree_counts_only_visible_resources(resources, org_units, people, client_for):
    outsider = client_for(people["health_member"]).get("/departments/")
    assert outsider.status_code == 200
    assert _row_counts(outsider, org_units["tax"]) == (2, 1)  # only the open one; not restricted/scoped/draft
    insider = client_for(people["tax_member"]).get("/departments/")
    assert _row_counts(insider, org_units["tax"]) == (2, 4)
    hr_head = client_for(people["hr_head"]).get("/departments/")
    assert _row_counts(hr_head, org_units["tax"]) == (2, 2)  # open + scoped to 人社局
    social_member = client_for(people["social_member"]).get("/departments/")
    # scope covers sub-departments: 社保中心 is under 人社局
    assert _row_counts(social_member, org_units["tax"]) == (2, 2)


def test_departments_tree_puts_children_under_parents(org_units, people, client_for):
    response = client_for(people["tax_member"]).get("/departments/")
    names = [row.department.name for row in response.context["rows"]]
    assert names.index("社会保险中心") == names.index("人力资源和社会保障局") + 1
    depth = {row.department.code: row.depth for row in response.context["rows"]}
    assert depth["SBZX"] == 1 and depth["RSJ"] == 0


def test_department_page_shows_people_and_visible_resources(resources, org_units, people, client_for):
    tax = org_units["tax"]
    services.create_service_account(None, department=tax, username="tax-erp", display_name="税务ERP")
    response = client_for(people["health_member"]).get(f"/departments/{tax.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "税务公开目录" in html
    assert "税务内部机密台账" not in html
    assert resources["restricted"].code not in html
    assert "仅人社可见" not in html
    assert "税务草稿" not in html
    assert "tax_steward" in html and "tax_member" in html
    assert "税务ERP" in html
    page = response.context["page"]
    assert page.resource_count == 1
    assert [u.username for u in page.stewards] == ["tax_steward"]


def test_department_page_lists_sub_departments_and_parent(org_units, people, client_for):
    client = client_for(people["tax_member"])
    hr = client.get(f"/departments/{org_units['hr'].pk}/")
    assert "社会保险中心" in hr.content.decode()
    social = client.get(f"/departments/{org_units['social'].pk}/")
    assert "人力资源和社会保障局" in social.content.decode()


def test_department_page_unknown_is_404(people, client_for):
    assert client_for(people["tax_member"]).get("/departments/999999/").status_code == 404


def test_department_pages_need_login(org_units):
    assert Client().get("/departments/").status_code == 302
    assert Client().get(f"/departments/{org_units['tax'].pk}/").status_code == 302


# --- tokens --------------------------------------------------------------------------------------


def _secret_in(html: str) -> str:
    match = re.search(r"shr_[A-Za-z0-9_-]{20,}", html)
    assert match, "no secret on the page"
    return match.group(0)


def test_token_created_secret_shown_once_and_works(people, client_for):
    user = people["tax_member"]
    client = client_for(user)
    response = client.post("/tokens/", {"name": "ERP 同步", "scopes": "read"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = _secret_in(response.content.decode())
    token = ApiToken.objects.get(user=user)
    assert token.name == "ERP 同步"
    assert secret.startswith(token.prefix)
    # Shown once: the list page never shows it again.
    again = client.get("/tokens/").content.decode()
    assert secret not in again
    assert token.prefix in again
    # It works as a bearer token.
    me = Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert me.status_code == 200
    assert me.json()["username"] == "tax_member"
    assert services.user_for_token(secret) == user


def test_token_without_name_is_refused(people, client_for):
    response = client_for(people["tax_member"]).post("/tokens/", {"name": "  "})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()
    assert "shr_" not in response.content.decode().replace("shr_…", "")


def test_revoke_own_token(people, client_for):
    user = people["tax_member"]
    token, secret = services.issue_token(user, user, "脚本")
    client = client_for(user)
    response = client.post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert services.user_for_token(secret) is None
    assert Event.objects.filter(action="token.revoked", actor=user).exists()
    assert Client().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {secret}").status_code == 401


def test_revoke_someone_elses_token_is_404(people, client_for):
    owner = people["tax_steward"]
    token, _secret = services.issue_token(owner, owner, "他人")
    response = client_for(people["tax_member"]).post(f"/tokens/{token.pk}/revoke/")
    assert response.status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    # Not even an org admin revokes someone's token through this page (the admin site does that).
    assert client_for(people["admin"]).post(f"/tokens/{token.pk}/revoke/").status_code == 404


def test_revoke_is_post_only(people, client_for):
    user = people["tax_member"]
    token, _secret = services.issue_token(user, user, "脚本")
    assert client_for(user).get(f"/tokens/{token.pk}/revoke/").status_code == 405


def test_tokens_page_lists_only_my_tokens(people, client_for):
    services.issue_token(people["tax_member"], people["tax_member"], "我的令牌")
    services.issue_token(people["tax_steward"], people["tax_steward"], "别人的令牌")
    html = client_for(people["tax_member"]).get("/tokens/").content.decode()
    assert "我的令牌" in html
    assert "别人的令牌" not in html
