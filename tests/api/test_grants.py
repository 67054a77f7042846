"""Grants through the API: an approval opens the content at once, revocation and expiry close it at once;
grantees and stewards list, read and revoke them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.events.models import Event
from tests import factories
from tests.api.conftest import error_of

pytestmark = pytest.mark.django_db

ASK = {"purpose": "核验纳税人信息", "use_category": "verification", "period_days": 30, "accept_terms": True}

GRANT_KEYS = {
    "id", "resource", "grantee_user", "grantee_department", "purpose", "fields", "valid_from", "valid_until",
    "revoked_at", "revoke_reason", "state", "request",
}  # fmt: skip


def granted(api_as, requester, steward, resource, approve: dict | None = None, **ask) -> int:
    """Request as `requester`, approve as `steward`; returns the grant id."""
    created = api_as(requester).post(f"/resources/{resource.pk}/requests", {**ASK, **ask})
    assert created.status_code == 201, created.content
    approved = api_as(steward).post(f"/requests/{created.json()['id']}/approve", approve or {})
    assert approved.status_code == 200, approved.content
    return approved.json()["grant"]["id"]


def body_of(client, resource):
    response = client.get(f"/resources/{resource.pk}")
    assert response.status_code == 200, response.content
    return response.json()["body"]


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["items"]]


@pytest.fixture
def conditional(catalog):
    return catalog["conditional"]


# --- the content opens and closes at once


def test_grant_opens_the_content_and_revocation_closes_it(api_as, people, conditional):
    member = api_as(people["health_member"])
    assert body_of(member, conditional) is None
    grant_id = granted(api_as, people["health_member"], people["tax_steward"], conditional)
    assert body_of(member, conditional) == conditional.body
    assert member.get(f"/resources/{conditional.pk}").json()["can_read"] is True
    revoked = api_as(people["tax_steward"]).post(f"/grants/{grant_id}/revoke", {"reason": "项目结束"})
    assert revoked.status_code == 200, revoked.content
    body = revoked.json()
    assert body["state"] == "revoked" and body["revoke_reason"] == "项目结束" and body["revoked_at"]
    assert body_of(member, conditional) is None
    assert member.get(f"/resources/{conditional.pk}").json()["can_read"] is False
    assert Event.objects.filter(action="grant.revoked", target_id=str(grant_id)).count() == 1


def test_expired_grant_gives_no_body(api_as, people, conditional):
    member = api_as(people["health_member"])
    grant_id = granted(api_as, people["health_member"], people["tax_steward"], conditional)
    assert body_of(member, conditional) == conditional.body
    now = timezone.now()
    Grant.objects.filter(pk=grant_id).update(
        valid_from=now - timedelta(days=10), valid_until=now - timedelta(seconds=1)
    )
    assert body_of(member, conditional) is None
    assert member.get(f"/grants/{grant_id}").json()["state"] == "expired"
    assert ids(member.get("/grants", {"active": "true"})) == []
    # an ended grant cannot be revoked again
    response = api_as(people["tax_steward"]).post(f"/grants/{grant_id}/revoke", {"reason": "x"})
    assert response.status_code == 409


def test_future_grant_gives_no_body_yet(api_as, people, conditional):
    member = api_as(people["health_member"])
    grant_id = granted(api_as, people["health_member"], people["tax_steward"], conditional)
    now = timezone.now()
    Grant.objects.filter(pk=grant_id).update(valid_from=now + timedelta(days=1), valid_until=now + timedelta(days=5))
    assert body_of(member, conditional) is None
    assert member.get(f"/grants/{grant_id}").json()["state"] == "future"


def test_department_grant_opens_for_every_member(api_as, people, org_units, conditional):
    colleague = factories.member(org_units["health"], "member", username="health_colleague")
    assert body_of(api_as(colleague), conditional) is None
    grant_id = granted(
        api_as, people["health_member"], people["tax_steward"], conditional, for_department=org_units["health"].pk
    )
    assert body_of(api_as(colleague), conditional) == conditional.body
    body = api_as(colleague).get(f"/grants/{grant_id}").json()
    assert body["grantee_department"]["code"] == "WJW" and body["grantee_user"] is None
    assert ids(api_as(colleague).get("/grants", {"scope": "mine"})) == [grant_id]
    # a member of another department still sees no body
    assert body_of(api_as(people["social_member"]), conditional) is None


# --- listing and reading


@pytest.fixture
def two_grants(api_as, people, catalog, conditional):
    """One grant to health_member on the tax resource, one to tax_steward on a 市场监管局 resource."""
    other = factories.department("市场监管局", "SCJ")
    health_steward = factories.member(other, "steward", username="scj_steward")
    health_owned = factories.resource(other, by=health_steward, sharing_type="conditional", title="市场主体数据")
    return {
        "tax": granted(api_as, people["health_member"], people["tax_steward"], conditional),
        "health": granted(api_as, people["tax_steward"], health_steward, health_owned),
        "health_resource": health_owned,
    }


def test_grant_shape(api_as, people, conditional, two_grants):
    body = api_as(people["health_member"]).get(f"/grants/{two_grants['tax']}").json()
    assert set(body) == GRANT_KEYS
    assert body["resource"] == {
        "id": conditional.pk,
        "code": conditional.code,
        "title": conditional.title,
        "hidden": False,
    }
    assert body["grantee_user"]["username"] == "health_member"
    assert body["purpose"] == ASK["purpose"] and body["state"] == "active" and body["revoked_at"] is None
    assert body["request"] is not None


def test_scopes(api_as, people, two_grants):
    steward = api_as(people["tax_steward"])
    # the tax steward holds one grant and manages the other
    assert ids(steward.get("/grants", {"scope": "mine"})) == [two_grants["health"]]
    assert ids(steward.get("/grants", {"scope": "managed"})) == [two_grants["tax"]]
    assert set(ids(steward.get("/grants"))) == {two_grants["tax"], two_grants["health"]}
    member = api_as(people["health_member"])
    assert ids(member.get("/grants", {"scope": "mine"})) == [two_grants["tax"]]
    assert ids(member.get("/grants", {"scope": "managed"})) == []
    admin = api_as(people["admin"])
    assert set(ids(admin.get("/grants", {"scope": "managed"}))) == {two_grants["tax"], two_grants["health"]}
    assert ids(api_as(people["social_member"]).get("/grants")) == []
    assert steward.get("/grants", {"scope": "nobody"}).status_code == 422


def test_filters_and_cursor(api_as, people, catalog, conditional, two_grants):
    admin = api_as(people["admin"])
    resource_id = two_grants["health_resource"].pk
    assert ids(admin.get("/grants", {"resource": resource_id})) == [two_grants["health"]]
    assert ids(api_as(people["tax_steward"]).get("/grants", {"scope": "mine", "resource": conditional.pk})) == []
    api_as(people["tax_steward"]).post(f"/grants/{two_grants['tax']}/revoke", {"reason": "到期前收回"})
    assert ids(admin.get("/grants", {"active": "true"})) == [two_grants["health"]]
    seen, cursor = [], None
    while True:
        response = admin.get("/grants", {"limit": 1, **({"cursor": cursor} if cursor else {})})
        seen += ids(response)
        cursor = response.json()["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted([two_grants["tax"], two_grants["health"]])
    bad = admin.get("/grants", {"cursor": "nonsense"})
    assert bad.status_code == 422 and "cursor" in error_of(bad)["fields"]


@pytest.mark.parametrize("ident", ["999999", "abc"])
def test_unknown_grant_is_404(api_as, people, ident):
    response = api_as(people["tax_steward"]).get(f"/grants/{ident}")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_other_peoples_grants_are_404(api_as, people, two_grants):
    outsider = api_as(people["social_member"])
    missing = outsider.get("/grants/999999").json()
    for response in [
        outsider.get(f"/grants/{two_grants['tax']}"),
        outsider.post(f"/grants/{two_grants['tax']}/revoke", {"reason": "x"}),
    ]:
        assert response.status_code == 404
        assert response.json() == missing
    assert Grant.objects.get(pk=two_grants["tax"]).revoked_at is None


# --- revoking


def test_grantee_may_not_revoke(api_as, people, two_grants):
    response = api_as(people["health_member"]).post(f"/grants/{two_grants['tax']}/revoke", {"reason": "不需要了"})
    assert response.status_code == 403
    assert "stewards" in error_of(response)["message"]
    assert Grant.objects.get(pk=two_grants["tax"]).revoked_at is None


@pytest.mark.parametrize(("data", "field"), [({}, "reason"), ({"reason": " "}, "reason"), ({"why": "x"}, "why")])
def test_revoke_needs_a_reason(api_as, people, two_grants, data, field):
    response = api_as(people["tax_steward"]).post(f"/grants/{two_grants['tax']}/revoke", data)
    assert response.status_code == 422
    assert field in error_of(response)["fields"]
    assert Grant.objects.get(pk=two_grants["tax"]).revoked_at is None


def test_revoking_twice_is_409(api_as, people, two_grants):
    steward = api_as(people["tax_steward"])
    assert steward.post(f"/grants/{two_grants['tax']}/revoke", {"reason": "一"}).status_code == 200
    again = steward.post(f"/grants/{two_grants['tax']}/revoke", {"reason": "二"})
    assert again.status_code == 409
    assert Grant.objects.get(pk=two_grants["tax"]).revoke_reason == "一"


def test_a_new_request_renews(api_as, people, conditional, two_grants):
    member = api_as(people["health_member"])
    api_as(people["tax_steward"]).post(f"/grants/{two_grants['tax']}/revoke", {"reason": "重新申请"})
    assert body_of(member, conditional) is None
    renewed = granted(api_as, people["health_member"], people["tax_steward"], conditional)
    assert renewed != two_grants["tax"]
    assert body_of(member, conditional) == conditional.body


# --- a resource's grants


def test_resource_grants_for_its_stewards(api_as, people, conditional, two_grants):
    response = api_as(people["tax_steward"]).get(f"/resources/{conditional.pk}/grants")
    assert ids(response) == [two_grants["tax"]]
    assert ids(api_as(people["tax_steward"]).get(f"/resources/{conditional.code}/grants")) == [two_grants["tax"]]
    assert ids(api_as(people["admin"]).get(f"/resources/{conditional.pk}/grants", {"active": "true"})) == [
        two_grants["tax"]
    ]


@pytest.mark.parametrize("who", ["health_member", "tax_member"])
def test_resource_grants_are_403_for_others_who_see_it(api_as, people, conditional, two_grants, who):
    response = api_as(people[who]).get(f"/resources/{conditional.pk}/grants")
    assert response.status_code == 403
    assert error_of(response)["code"] == "forbidden"


@pytest.mark.parametrize("which", ["restricted", "draft", "hr_scoped"])
def test_resource_grants_of_invisible_resource_are_404(api_as, people, catalog, which):
    response = api_as(people["health_member"]).get(f"/resources/{catalog[which].pk}/grants")
    assert response.status_code == 404
    assert response.json() == api_as(people["health_member"]).get("/resources/999999/grants").json()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/grants"),
        ("get", "/grants/{grant}"),
        ("post", "/grants/{grant}/revoke"),
        ("get", "/resources/{res}/grants"),
    ],
)
def test_anonymous_is_401(api_as, people, conditional, two_grants, method, path):
    path = path.format(grant=two_grants["tax"], res=conditional.pk)
    response = api_as().get(path) if method == "get" else api_as().post(path, {"reason": "x"})
    assert response.status_code == 401
    assert error_of(response)["code"] == "unauthenticated"
    assert Grant.objects.get(pk=two_grants["tax"]).revoked_at is None


def test_openapi_documents_the_routes(api_as, people):
    schema = api_as(people["health_member"]).client.get("/api/v1/openapi.json").json()
    for path, method in [
        ("/api/v1/grants", "get"),
        ("/api/v1/grants/{grant_id}", "get"),
        ("/api/v1/grants/{grant_id}/revoke", "post"),
        ("/api/v1/resources/{ident}/grants", "get"),
    ]:
        assert schema["paths"][path][method]["summary"], (path, method)
