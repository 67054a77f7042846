"""Stored references to other resources pass the policy when they are shown (invariant 10): in old
versions, diffs and notifications.

The reproducer of issue 10, item 1.2: a person in two departments links a restricted draft of
department B as related on a resource of department A. A person of a third department, who gets 404
on the draft, saw its code in A's `/versions/N` and `/diff` (API and page), because a version's
snapshot keeps the codes of the related resources as they were when it was saved.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sharehub.access import services as access
from sharehub.catalog import services
from sharehub.catalog.models import Resource
from sharehub.events.consumers import run_pending
from tests import factories
from tests.policy.route_helpers import Caller, text_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def linked(org_units, people):
    """A's open resource at version 2, related (by someone of A and B) to B's restricted draft."""
    tax, health = org_units["tax"], org_units["health"]
    both = factories.person("both_depts", departments={tax: "member", health: "member"})
    health_steward = factories.member(health, "steward", username="health_steward")
    public = factories.resource(tax, by=people["tax_steward"], title="公开的纳税指南")
    draft = factories.resource(
        health, by=health_steward, sharing_type="restricted", publish=False, title="卫健委内部草稿"
    )
    services.update_resource(both, public, {"related": [draft.pk]}, note="关联草稿")
    public.refresh_from_db()
    assert public.version == 2
    return {
        "public": public,
        "draft": draft,
        "both": both,
        "outsider": people["hr_head"],
        "health_steward": health_steward,
    }


def _version_api(caller: Caller, resource: Resource, number: int):
    return caller.api_get(f"/resources/{resource.code}/versions/{number}")


def _diff_api(caller: Caller, resource: Resource):
    return caller.api_get(f"/resources/{resource.code}/diff", {"from": 1, "to": 2})


def _diff_page(caller: Caller, resource: Resource):
    return caller.page(reverse("catalog:diff", args=[resource.code]), {"a": 1, "b": 2})


def test_the_outsider_may_not_know_the_draft(linked):
    caller = Caller(linked["outsider"])
    assert caller.api_get(f"/resources/{linked['draft'].code}").status_code == 404
    assert caller.page(reverse("catalog:detail", args=[linked["draft"].code])).status_code == 404
    assert caller.api_get(f"/resources/{linked['public'].code}").json()["related"] == []


def test_version_api_leaves_out_a_related_code_the_reader_may_not_see(linked):
    public, draft = linked["public"], linked["draft"]
    response = _version_api(Caller(linked["outsider"]), public, 2)
    assert response.status_code == 200, response.content
    assert response.json()["snapshot"]["related"] == []
    assert draft.code not in text_of(response)
    # Whoever may see the draft still finds it in the snapshot.
    assert _version_api(Caller(linked["both"], bearer=True), public, 2).json()["snapshot"]["related"] == [draft.code]


def test_diff_api_leaves_out_a_related_code_the_reader_may_not_see(linked):
    public, draft = linked["public"], linked["draft"]
    response = _diff_api(Caller(linked["outsider"], bearer=True), public)
    assert response.status_code == 200, response.content
    assert draft.code not in text_of(response)
    assert [c["field"] for c in response.json()["changes"]] == []
    shown = _diff_api(Caller(linked["both"]), public).json()["changes"]
    assert [c["field"] for c in shown] == ["related"]
    assert {"kind": "added", "text": draft.code} in shown[0]["lines"]


def test_diff_page_leaves_out_a_related_code_the_reader_may_not_see(linked):
    public, draft = linked["public"], linked["draft"]
    response = _diff_page(Caller(linked["outsider"]), public)
    assert response.status_code == 200
    html = text_of(response)
    assert draft.code not in html and draft.title not in html
    assert "No differences between these versions." in html
    assert draft.code in text_of(_diff_page(Caller(linked["both"]), public))


def test_the_filter_follows_the_policy_now_not_when_the_version_was_saved(linked):
    """Publishing the draft to everyone later shows its code in the old version; restricting it again hides it."""
    public, draft = linked["public"], linked["draft"]
    outsider = Caller(linked["outsider"])
    steward = linked["health_steward"]
    services.change_sharing(steward, draft, sharing_type="open", restriction_basis="")
    draft = services.transition(steward, Resource.objects.get(pk=draft.pk), "publish")
    assert _version_api(outsider, public, 2).json()["snapshot"]["related"] == [draft.code]
    services.change_sharing(
        steward, Resource.objects.get(pk=draft.pk), sharing_type="restricted", restriction_basis="内部工作材料"
    )
    assert _version_api(outsider, public, 2).json()["snapshot"]["related"] == []


def _statements(call) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code == 200
    return len(captured)


def test_statements_do_not_grow_with_the_related_codes(linked, org_units, people):
    """One filtered query for all the codes a snapshot names, however many there are."""
    public, both = linked["public"], linked["both"]
    outsider = Caller(linked["outsider"])
    calls = (
        lambda: _version_api(outsider, public, 3),
        lambda: outsider.api_get(f"/resources/{public.code}/diff", {"from": 2, "to": 3}),
        lambda: outsider.page(reverse("catalog:diff", args=[public.code]), {"a": 2, "b": 3}),
    )
    services.update_resource(both, public, {"title": "改名"})
    few = [_statements(call) for call in calls]
    more = [
        factories.resource(org_units["health"], by=linked["health_steward"], sharing_type="restricted")
        for _ in range(4)
    ] + [factories.resource(org_units["tax"], by=people["tax_steward"]) for _ in range(3)]
    public = Resource.objects.get(pk=public.pk)
    services.update_resource(both, public, {"related": [linked["draft"].pk, *(r.pk for r in more)]})
    services.update_resource(both, Resource.objects.get(pk=public.pk), {"title": "再改名"})
    calls = (
        lambda: _version_api(outsider, public, 5),
        lambda: outsider.api_get(f"/resources/{public.code}/diff", {"from": 4, "to": 5}),
        lambda: outsider.page(reverse("catalog:diff", args=[public.code]), {"a": 4, "b": 5}),
    )
    many = [_statements(call) for call in calls]
    assert many == few


# --- notifications name a resource only while the reader may see it


@pytest.fixture
def revoked(org_units, people):
    """health_member asked for an organization-wide conditional resource of 税务局 and got a grant;
    the steward then narrowed its scope to 税务局 and revoked the grant: health_member may no longer
    know the resource, and three notifications of theirs named it."""
    steward = people["tax_steward"]
    secret = factories.resource(org_units["tax"], by=steward, sharing_type="conditional", title="企业欠税明细")
    asked = access.create_request(
        people["health_member"], secret, purpose="核验", use_category="verification", period_days=10, accept_terms=True
    )
    access.approve_request(steward, asked)
    services.change_sharing(
        steward, Resource.objects.get(pk=secret.pk), scope_all=False, scope_departments=[org_units["tax"]]
    )
    asked.refresh_from_db()
    access.revoke_grant(steward, asked.grant, reason="项目结束")
    run_pending()
    return secret


def test_notifications_do_not_name_a_resource_the_reader_may_no_longer_see(revoked, people):
    reader = Caller(people["health_member"])
    assert reader.page(reverse("catalog:detail", args=[revoked.code])).status_code == 404
    items = reader.api_get("/notifications").json()["items"]
    assert [i["action"] for i in items] == ["grant.revoked", "grant.created", "access.approved"]
    assert all("a resource you cannot see" in i["text"] for i in items), items
    assert all(i["link"] == "" for i in items), items
    api = text_of(reader.api_get("/notifications"))
    page = text_of(reader.page(reverse("feeds:list")))
    for text in (api, page):
        assert revoked.title not in text and revoked.code not in text
    assert "Your access to a resource you cannot see was revoked: 项目结束" in page
    # The steward still reads the resource's name in their own notifications.
    mine = Caller(people["tax_steward"]).api_get("/notifications").json()["items"]
    assert revoked.title in mine[0]["text"]


def test_notifications_name_the_resource_again_once_the_reader_may_see_it(revoked, people):
    services.change_sharing(people["tax_steward"], Resource.objects.get(pk=revoked.pk), scope_all=True)
    items = Caller(people["health_member"]).api_get("/notifications").json()["items"]
    assert items[0]["text"] == f"Your access to {revoked.title} was revoked: 项目结束"
    assert items[0]["link"] == f"/resources/{revoked.code}/"


def test_notification_statements_do_not_grow_with_the_page(revoked, people, org_units):
    reader = Caller(people["health_member"])
    calls = (lambda: reader.api_get("/notifications"), lambda: reader.page(reverse("feeds:list")))
    few = [_statements(call) for call in calls]
    steward = people["tax_steward"]
    for n in range(3):
        other = factories.resource(org_units["tax"], by=steward, sharing_type="conditional", title=f"其他 {n}")
        asked = access.create_request(
            people["health_member"],
            other,
            purpose="核验",
            use_category="verification",
            period_days=5,
            accept_terms=True,
        )
        access.approve_request(steward, asked)
    run_pending()
    assert len(reader.api_get("/notifications").json()["items"]) == 9
    assert [_statements(call) for call in calls] == few


def test_editing_the_related_list_keeps_links_the_editor_may_not_see(linked, org_units, people):
    """A member of A sees only A's side of the links; saving the list they see must not drop B's draft."""
    public, draft = linked["public"], linked["draft"]
    other = factories.resource(org_units["tax"], by=people["tax_steward"], title="另一份指南")
    services.update_resource(people["tax_member"], public, {"related": [other.pk]})
    assert set(public.related.values_list("pk", flat=True)) == {draft.pk, other.pk}
    services.update_resource(people["tax_member"], public, {"related": []})
    assert list(public.related.values_list("pk", flat=True)) == [draft.pk]
    services.update_resource(linked["both"], public, {"related": []})  # one who sees it may remove it
    assert not public.related.exists()


# --- requests and grants keep their history but name the resource only while the reader may see it


def _access_routes(reader: Caller, asked_id: int, grant_id: int):
    return {
        "my requests page": reader.page(reverse("access:mine")),
        "request page": reader.page(reverse("access:detail", args=[asked_id])),
        "my grants page": reader.page(reverse("access:grants")),
        "requests API": reader.api_get("/requests", {"scope": "mine"}),
        "request API": reader.api_get(f"/requests/{asked_id}"),
        "grants API": reader.api_get("/grants", {"scope": "mine"}),
        "grant API": reader.api_get(f"/grants/{grant_id}"),
    }


def test_requests_and_grants_do_not_name_a_resource_the_requester_may_no_longer_see(revoked, people):
    from sharehub.access.models import AccessRequest

    asked = AccessRequest.objects.select_related("grant").get(resource=revoked)
    reader = Caller(people["health_member"])
    for route, response in _access_routes(reader, asked.pk, asked.grant.pk).items():
        assert response.status_code == 200, route
        text = text_of(response)
        assert revoked.title not in text and revoked.code not in text, route
    assert "A resource you can no longer see" in text_of(reader.page(reverse("access:detail", args=[asked.pk])))
    ref = reader.api_get(f"/requests/{asked.pk}").json()["resource"]
    assert ref == {"id": None, "code": None, "title": None, "hidden": True}
    assert reader.api_get(f"/grants/{asked.grant.pk}").json()["resource"]["hidden"] is True
    # The request's own history stays the requester's.
    assert reader.api_get(f"/requests/{asked.pk}").json()["purpose"] == "核验"


def test_requests_and_grants_name_the_resource_for_its_steward_and_again_once_visible(revoked, people):
    from sharehub.access.models import AccessRequest

    asked = AccessRequest.objects.select_related("grant").get(resource=revoked)
    steward = Caller(people["tax_steward"])
    request_api = steward.api_get(f"/requests/{asked.pk}").json()
    assert request_api["resource"] == {"id": revoked.pk, "code": revoked.code, "title": revoked.title, "hidden": False}
    assert revoked.title in text_of(steward.page(reverse("access:detail", args=[asked.pk])))
    services.change_sharing(people["tax_steward"], Resource.objects.get(pk=revoked.pk), scope_all=True)
    reader = Caller(people["health_member"])
    assert reader.api_get(f"/grants/{asked.grant.pk}").json()["resource"]["code"] == revoked.code
    assert revoked.title in text_of(reader.page(reverse("access:grants")))


def test_hidden_dataset_fields_are_left_out_with_the_resource(org_units, people):
    steward = people["tax_steward"]
    fields = [{"name": "taxpayer_secret_id", "type": "text", "sensitivity": "sensitive", "description": "纳税人识别号"}]
    dataset = factories.resource(
        org_units["tax"], by=steward, kind="dataset", sharing_type="conditional", dataset_fields=fields
    )
    asked = access.create_request(
        people["health_member"],
        dataset,
        purpose="核验",
        use_category="verification",
        period_days=10,
        accept_terms=True,
        fields=["taxpayer_secret_id"],
    )
    access.approve_request(steward, asked)
    reader = Caller(people["health_member"])
    assert "taxpayer_secret_id" in text_of(reader.page(reverse("access:detail", args=[asked.pk])))
    services.change_sharing(
        steward, Resource.objects.get(pk=dataset.pk), sharing_type="restricted", restriction_basis="内部工作材料"
    )
    asked.refresh_from_db()
    for route, response in _access_routes(reader, asked.pk, asked.grant.pk).items():
        text = text_of(response)
        assert "taxpayer_secret_id" not in text and "纳税人识别号" not in text, route
