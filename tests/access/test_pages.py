"""The pages of the access process: request form, my requests, request detail with decisions, the
steward inbox with bulk decisions, overdue requests, grants per resource and per person, and the
admin. Each page through Django's test client, as the person who would use it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from sharehub.access import services
from sharehub.access.models import AccessRequest, Grant
from sharehub.events.models import Event
from sharehub.org.models import Membership
from tests import factories
from tests.access.conftest import FIELDS, MARKER


def request_url(resource):
    return reverse("access:request", args=[resource.code])


def detail_url(access_request):
    return reverse("access:detail", args=[access_request.pk])


def valid_post(**changes) -> dict:
    data = {
        "purpose": "核验参保单位缴费基数",
        "use_category": "verification",
        "period_days": "30",
        "for_whom": "self",
        "accept_terms": "on",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def make_request(person, resource, **kwargs) -> AccessRequest:
    values = {"purpose": "核验", "use_category": "verification", "period_days": 30, "accept_terms": True}
    values.update(kwargs)
    return services.create_request(person, resource, **values)


def html_of(response) -> str:
    return response.content.decode()


# --- the request form ----------------------------------------------------------------------------


def test_request_form_shows_terms_maximum_and_choices(client_for, people, org_units, conditional):
    response = client_for(people["social_member"]).get(request_url(conditional))
    html = html_of(response)
    assert response.status_code == 200
    assert "不得向组织外提供" in html  # the terms of use
    assert 'name="accept_terms"' in html
    assert 'max="60"' in html and "At most 60 days for this resource." in html
    assert "business verification" in html  # a use category
    assert f'value="{org_units["social"].pk}"' in html  # for my department
    assert MARKER not in html


def test_request_form_lists_dataset_fields_as_checkboxes(client_for, people, dataset):
    html = html_of(client_for(people["social_member"]).get(request_url(dataset)))
    for f in FIELDS:
        assert f'name="fields_wanted" value="{f["name"]}"' in html


def test_request_happy_path(client_for, people, org_units, dataset):
    client = client_for(people["social_member"])
    response = client.post(
        request_url(dataset),
        valid_post(for_whom=str(org_units["social"].pk), fields_wanted=["taxpayer_id", "amount"]),
    )
    created = AccessRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(created)
    assert created.requester == people["social_member"]
    assert created.for_department == org_units["social"]
    assert created.fields == ["taxpayer_id", "amount"]
    assert created.period_days == 30
    page = client.get(detail_url(created))
    html = html_of(page)
    assert page.status_code == 200
    assert f"Request #{created.pk} sent to 税务局" in html
    assert "awaiting the steward" in html
    assert "核验参保单位缴费基数" in html
    assert 'data-kind="submitted"' in html  # the history
    assert reverse("access:withdraw", args=[created.pk]) in html
    assert 'id="approve-form"' not in html  # the requester does not decide


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"purpose": ""}, "purpose", "State the purpose of the request."),
        ({"purpose": "   "}, "purpose", "State the purpose of the request."),
        ({"period_days": "61"}, "period_days", "At most 60 days for this resource."),
        ({"period_days": "0"}, "period_days", "The period is at least one day."),
        ({"period_days": "abc"}, "period_days", "Give the period as a whole number of days."),
        ({"accept_terms": None}, "accept_terms", "Accept the terms of use to send the request."),
        ({"use_category": "espionage"}, "use_category", "espionage"),
        ({"for_whom": "999999"}, "for_whom", "999999"),
    ],
)
def test_request_form_errors_write_nothing(client_for, people, conditional, changes, field, message):
    client = client_for(people["social_member"])  # signing in is an event of its own
    events = Event.objects.count()
    response = client.post(request_url(conditional), valid_post(**changes))
    html = html_of(response)
    assert response.status_code == 422
    assert message in html
    assert f'name="{field}"' in html and "is-invalid" in html
    assert "Nothing was sent." in html
    assert not AccessRequest.objects.exists()
    assert Event.objects.count() == events


def test_request_for_a_department_i_do_not_belong_to_is_refused(client_for, people, org_units, conditional):
    response = client_for(people["social_member"]).post(
        request_url(conditional), valid_post(for_whom=str(org_units["health"].pk))
    )
    assert response.status_code == 422
    assert not AccessRequest.objects.exists()


def test_unknown_dataset_fields_are_refused(client_for, people, dataset):
    response = client_for(people["social_member"]).post(
        request_url(dataset), valid_post(fields_wanted=["taxpayer_id", "no_such_field"])
    )
    assert response.status_code == 422
    assert "The dataset has no field named no_such_field." in html_of(response)
    assert not AccessRequest.objects.exists()


def test_duplicate_open_request_is_refused_with_a_link(client_for, people, conditional):
    client = client_for(people["social_member"])
    first = client.post(request_url(conditional), valid_post())
    assert first.status_code == 302
    existing = AccessRequest.objects.get()
    second = client.post(request_url(conditional), valid_post(purpose="再来一次"))
    html = html_of(second)
    assert second.status_code == 409
    assert f"You already have an open request (#{existing.pk}) for this resource." in html
    assert f'href="{detail_url(existing)}"' in html
    assert AccessRequest.objects.count() == 1


def test_restricted_resource_cannot_be_requested(client_for, people, org_units):
    restricted = factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        sharing_type="restricted",
        restriction_basis="《税收征管法》保密条款",
    )
    # Outside the owner department it is not even known.
    assert client_for(people["social_member"]).get(request_url(restricted)).status_code == 404
    assert client_for(people["social_member"]).post(request_url(restricted), valid_post()).status_code == 404
    # Inside, the page says why it cannot be requested and who to contact.
    response = client_for(people["tax_member"]).get(request_url(restricted))
    html = html_of(response)
    assert response.status_code == 403
    assert "it cannot be requested" in html
    assert "《税收征管法》保密条款" in html
    assert "Who to contact" in html and "税务局" in html
    assert client_for(people["tax_member"]).post(request_url(restricted), valid_post()).status_code == 403
    assert not AccessRequest.objects.exists()


def test_resource_out_of_scope_is_404(client_for, people, org_units):
    hidden = factories.resource(
        org_units["tax"], by=people["tax_steward"], sharing_type="conditional", scope=[org_units["health"]]
    )
    assert client_for(people["social_member"]).get(request_url(hidden)).status_code == 404
    assert client_for(people["health_member"]).get(request_url(hidden)).status_code == 200


def test_open_resource_needs_no_request(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    response = client_for(people["social_member"]).get(request_url(resource))
    assert response.status_code == 403
    assert "no request is needed" in html_of(response)


def test_resource_page_and_explanation_link_to_the_request_form(client_for, people, conditional):
    client = client_for(people["social_member"])
    for name in ("catalog:detail", "catalog:explain"):
        html = html_of(client.get(reverse(name, args=[conditional.code])))
        assert f'href="{request_url(conditional)}"' in html
    access_request = make_request(people["social_member"], conditional)
    html = html_of(client.get(reverse("catalog:detail", args=[conditional.code])))
    assert f'href="{detail_url(access_request)}"' in html  # the open request instead of a second one


# --- my requests and the detail --------------------------------------------------------------


def test_my_requests_lists_mine_with_a_status_filter(client_for, people, org_units, conditional, dataset):
    mine = make_request(people["social_member"], conditional)
    rejected = make_request(people["social_member"], dataset)
    services.reject_request(people["tax_steward"], rejected, reason="不符合条件")
    other = make_request(people["health_member"], conditional)
    client = client_for(people["social_member"])
    html = html_of(client.get(reverse("access:mine")))
    assert detail_url(mine) in html and detail_url(rejected) in html
    assert detail_url(other) not in html
    assert "due in" in html
    html = html_of(client.get(reverse("access:mine") + "?status=rejected"))
    assert detail_url(rejected) in html and detail_url(mine) not in html
    html = html_of(client.get(reverse("access:mine") + "?status=open"))
    assert detail_url(mine) in html and detail_url(rejected) not in html
    assert client.get(reverse("access:mine") + "?status=<script>").status_code == 200


def test_someone_elses_request_and_grant_pages_are_404(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    outsider = client_for(people["health_member"])
    assert outsider.get(detail_url(access_request)).status_code == 404
    for verb in ("approve", "reject", "ask", "answer", "withdraw"):
        url = reverse(f"access:{verb}", args=[access_request.pk])
        assert outsider.post(url, {"reject-reason": "x", "question": "x", "answer": "x"}).status_code == 404
    services.approve_request(people["tax_steward"], access_request)
    grant = Grant.objects.get()
    assert outsider.post(reverse("access:revoke", args=[grant.pk]), {"revoke-reason": "x"}).status_code == 404
    assert MARKER not in html_of(outsider.get(reverse("access:grants")))
    assert "企业纳税明细" not in html_of(outsider.get(reverse("access:grants")))
    # A visible resource's grant list is for its managers: the reason, not the grants.
    response = outsider.get(reverse("access:resource_grants", args=[conditional.code]))
    assert response.status_code == 403
    assert people["social_member"].username not in html_of(response)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    access_request.refresh_from_db()
    assert access_request.status == "approved"
    for bad in ("abc", "0", "99999999", "1" * 30):
        assert outsider.get(f"/requests/{bad}/").status_code == 404


def test_withdraw(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    client = client_for(people["social_member"])
    response = client.post(reverse("access:withdraw", args=[access_request.pk]), follow=True)
    assert "Request withdrawn." in html_of(response)
    access_request.refresh_from_db()
    assert access_request.status == "withdrawn"
    again = client.post(reverse("access:withdraw", args=[access_request.pk]), follow=True)
    assert again.status_code == 200 and "already decided" in html_of(again)


# --- deciding --------------------------------------------------------------------------------


def test_steward_approves_narrower_and_the_member_reads(client_for, people, org_units, dataset):
    member = people["social_member"]
    access_request = make_request(
        member, dataset, period_days=30, fields=["taxpayer_id", "amount"], for_department=org_units["social"]
    )
    steward = client_for(people["tax_steward"])
    page = html_of(steward.get(detail_url(access_request)))
    assert 'id="approve-form"' in page and 'name="requester_only"' in page
    assert 'name="fields_granted" value="taxpayer_id"' in page
    reader = client_for(member)
    assert MARKER not in html_of(reader.get(reverse("catalog:detail", args=[dataset.code])))
    response = steward.post(
        reverse("access:approve", args=[access_request.pk]),
        {"period_days": "7", "fields_granted": ["amount"], "requester_only": "on", "note": "先给一周"},
        follow=True,
    )
    assert "Approved. The grant is active now." in html_of(response)
    grant = Grant.objects.get()
    assert grant.grantee_user == member and grant.grantee_department is None
    assert grant.fields == ["amount"]
    assert timedelta(days=6, hours=23) < grant.valid_until - grant.valid_from <= timedelta(days=7)
    assert MARKER in html_of(reader.get(reverse("catalog:detail", args=[dataset.code])))
    html = html_of(reader.get(detail_url(access_request)))
    assert "approved" in html and "先给一周" in html and "sh-grant" in html
    assert grant.valid_until.astimezone(timezone.get_current_timezone()).strftime("%Y-%m-%d") in html


def test_approve_with_a_longer_period_than_asked_is_refused(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional, period_days=10)
    response = client_for(people["tax_steward"]).post(
        reverse("access:approve", args=[access_request.pk]), {"period_days": "20"}
    )
    assert response.status_code == 422
    assert "Between 1 and the 10 days asked for." in html_of(response)
    assert not Grant.objects.exists()


def test_reject_needs_a_reason_and_the_requester_sees_it(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    steward = client_for(people["tax_steward"])
    url = reverse("access:reject", args=[access_request.pk])
    empty = steward.post(url, {"reject-reason": "  "})
    assert empty.status_code == 422 and "This field is required." in html_of(empty)
    access_request.refresh_from_db()
    assert access_request.status == "pending"
    steward.post(url, {"reject-reason": "用途与共享条件不符"})
    access_request.refresh_from_db()
    assert access_request.status == "rejected"
    html = html_of(client_for(people["social_member"]).get(detail_url(access_request)))
    assert "用途与共享条件不符" in html and "sh-rejected" in html
    assert not Grant.objects.exists()


def test_ask_and_answer_round_trip(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    steward = client_for(people["tax_steward"])
    member = client_for(people["social_member"])
    assert steward.post(reverse("access:ask", args=[access_request.pk]), {"question": ""}).status_code == 422
    steward.post(reverse("access:ask", args=[access_request.pk]), {"question": "请说明涉及多少家企业？"})
    access_request.refresh_from_db()
    assert access_request.status == "info"
    html = html_of(member.get(detail_url(access_request)))
    assert "请说明涉及多少家企业？" in html and reverse("access:answer", args=[access_request.pk]) in html
    assert "clock paused" in html
    assert member.post(reverse("access:answer", args=[access_request.pk]), {"answer": ""}).status_code == 422
    response = member.post(reverse("access:answer", args=[access_request.pk]), {"answer": "约 120 家"}, follow=True)
    assert "Answer sent" in html_of(response)
    access_request.refresh_from_db()
    assert access_request.status == "pending"
    html = html_of(steward.get(detail_url(access_request)))
    assert "约 120 家" in html and 'data-kind="info_given"' in html and 'id="approve-form"' in html


def test_the_second_decider_is_told_it_was_already_decided(client_for, people, org_units, conditional):
    other_steward = factories.member(org_units["tax"], Membership.Role.STEWARD, username="tax_steward2")
    access_request = make_request(people["social_member"], conditional)
    first, second = client_for(people["tax_steward"]), client_for(other_steward)
    second_page = second.get(detail_url(access_request))  # both have the page open
    assert 'id="approve-form"' in html_of(second_page)
    first.post(reverse("access:approve", args=[access_request.pk]), {"period_days": "30"})
    response = second.post(reverse("access:reject", args=[access_request.pk]), {"reject-reason": "不行"}, follow=True)
    assert response.status_code == 200
    assert "This request was already decided (approved)." in html_of(response)
    response = second.post(reverse("access:approve", args=[access_request.pk]), {"period_days": "30"}, follow=True)
    assert response.status_code == 200 and "already decided" in html_of(response)
    assert Grant.objects.count() == 1
    access_request.refresh_from_db()
    assert access_request.status == "approved" and access_request.decided_by == people["tax_steward"]


def test_head_step_when_the_resource_asks_for_it(client_for, people, org_units):
    head = factories.member(org_units["tax"], Membership.Role.HEAD, username="tax_head")
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], sharing_type="conditional", requires_head_approval=True
    )
    access_request = make_request(people["social_member"], resource)
    steward = client_for(people["tax_steward"])
    assert "Approve and send to the head" in html_of(steward.get(detail_url(access_request)))
    response = steward.post(reverse("access:approve", args=[access_request.pk]), {"period_days": "30"}, follow=True)
    assert "awaits the head" in html_of(response)
    assert 'id="approve-form"' not in html_of(steward.get(detail_url(access_request)))
    head_client = client_for(head)
    assert detail_url(access_request) in html_of(head_client.get(reverse("access:inbox")))
    head_client.post(reverse("access:approve", args=[access_request.pk]), {"period_days": "30"})
    access_request.refresh_from_db()
    assert access_request.status == "approved"


# --- the inbox -------------------------------------------------------------------------------


def test_inbox_sorted_by_deadline_with_overdue_highlighted(client_for, people, conditional, dataset):
    late = make_request(people["social_member"], conditional)
    soon = make_request(people["health_member"], dataset)
    AccessRequest.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(days=1))
    steward = client_for(people["tax_steward"])
    html = html_of(steward.get(reverse("access:inbox")))
    assert html.index(detail_url(late)) < html.index(detail_url(soon))
    assert "sh-row-overdue" in html and "overdue" in html
    assert "working days" in html
    filtered = html_of(steward.get(reverse("access:inbox") + f"?resource={dataset.pk}"))
    assert detail_url(soon) in filtered and detail_url(late) not in filtered
    # Not a steward: nothing to decide, and no one else's requests.
    html = html_of(client_for(people["tax_member"]).get(reverse("access:inbox")))
    assert detail_url(late) not in html and "Nothing is waiting for your decision." in html


def test_bulk_approve_reports_the_failures(client_for, people, org_units, conditional, dataset):
    a = make_request(people["social_member"], conditional)
    b = make_request(people["health_member"], conditional)
    c = make_request(people["health_member"], dataset)
    services.withdraw_request(people["health_member"], c)
    steward = client_for(people["tax_steward"])
    picked = {"ids": [a.pk, b.pk, c.pk, 99999999], "action": "approve", "reason": "同意"}
    response = steward.post(reverse("access:bulk"), picked, follow=True)
    html = html_of(response)
    assert "2 request(s) approved." in html
    assert "2 request(s) could not be decided" in html
    assert f"#{c.pk}</a>: This request was already decided (withdrawn)." in html
    assert "#99999999</a>: Not found." in html
    assert Grant.objects.count() == 2
    assert set(AccessRequest.objects.filter(status="approved").values_list("pk", flat=True)) == {a.pk, b.pk}


def test_bulk_reject_needs_a_reason_and_reports_failures(client_for, people, conditional, dataset):
    a = make_request(people["social_member"], conditional)
    b = make_request(people["health_member"], dataset)
    steward = client_for(people["tax_steward"])
    picked = {"ids": [a.pk, b.pk], "action": "reject", "reason": ""}
    response = steward.post(reverse("access:bulk"), picked, follow=True)
    assert "Give a reason for rejecting; nothing was decided." in html_of(response)
    assert AccessRequest.objects.filter(status="pending").count() == 2
    services.approve_request(people["tax_steward"], b)
    response = steward.post(
        reverse("access:bulk"), {"ids": [a.pk, b.pk], "action": "reject", "reason": "材料不全"}, follow=True
    )
    html = html_of(response)
    assert "1 request(s) rejected." in html
    assert f"#{b.pk}</a>: This request was already decided (approved)." in html
    a.refresh_from_db()
    assert a.status == "rejected" and a.decision_reason == "材料不全"


def test_bulk_on_another_departments_request_fails_without_change(client_for, people, org_units, conditional):
    a = make_request(people["social_member"], conditional)
    hr_head = client_for(people["hr_head"])
    response = hr_head.post(reverse("access:bulk"), {"ids": [a.pk], "action": "approve"}, follow=True)
    assert "Not found." in html_of(response)
    a.refresh_from_db()
    assert a.status == "pending"


# --- overdue requests ------------------------------------------------------------------------


def test_overdue_page_is_for_admins(client_for, people, conditional, dataset):
    late = make_request(people["social_member"], conditional)
    on_time = make_request(people["social_member"], dataset)
    AccessRequest.objects.filter(pk=late.pk).update(deadline_at=timezone.now() - timedelta(hours=1))
    response = client_for(people["admin"]).get(reverse("access:overdue"))
    html = html_of(response)
    assert response.status_code == 200
    assert detail_url(late) in html and detail_url(on_time) not in html
    for who in ("tax_steward", "social_member", "auditor"):
        assert client_for(people[who]).get(reverse("access:overdue")).status_code == 404


# --- grants ----------------------------------------------------------------------------------


def test_revoke_closes_the_content_again(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    services.approve_request(people["tax_steward"], access_request)
    grant = Grant.objects.get()
    reader = client_for(people["social_member"])
    assert MARKER in html_of(reader.get(reverse("catalog:detail", args=[conditional.code])))
    steward = client_for(people["tax_steward"])
    page = html_of(steward.get(reverse("access:resource_grants", args=[conditional.code])))
    assert f'id="grant-{grant.pk}"' in page and 'data-state="active"' in page
    revoke = reverse("access:revoke", args=[grant.pk])
    response = steward.post(revoke, {"revoke-reason": ""}, follow=True)
    assert "This field is required." in html_of(response)
    grant.refresh_from_db()
    assert grant.revoked_at is None
    response = steward.post(revoke, {"revoke-reason": "项目已结束"}, follow=True)
    assert "Grant revoked" in html_of(response) and 'data-state="revoked"' in html_of(response)
    assert MARKER not in html_of(reader.get(reverse("catalog:detail", args=[conditional.code])))
    again = steward.post(revoke, {"revoke-reason": "再撤一次"}, follow=True)
    assert again.status_code == 200 and "already ended" in html_of(again)


def test_my_grants_with_expiry_and_renew(client_for, people, org_units, conditional, dataset):
    services.approve_request(people["tax_steward"], make_request(people["social_member"], conditional))
    services.approve_request(
        people["tax_steward"], make_request(people["hr_head"], dataset, for_department=org_units["hr"])
    )
    expired = Grant.objects.get(resource=conditional)
    html = html_of(client_for(people["social_member"]).get(reverse("access:grants")))
    assert "企业纳税明细" in html and 'data-state="active"' in html
    assert f'href="{request_url(conditional)}"' in html  # renew through a new request
    assert "纳税申报数据集" not in html  # a grant to 人社局 does not reach the sub-unit's members
    Grant.objects.filter(pk=expired.pk).update(
        valid_from=timezone.now() - timedelta(days=3), valid_until=timezone.now() - timedelta(days=1)
    )
    html = html_of(client_for(people["social_member"]).get(reverse("access:grants")))
    assert 'data-state="expired"' in html


# --- the sharing settings of a resource ------------------------------------------------------


def test_sharing_page_sets_terms_maximum_and_head_step(client_for, people, conditional):
    url = reverse("catalog:sharing", args=[conditional.code])
    steward = client_for(people["tax_steward"])
    html = html_of(steward.get(url))
    assert 'name="terms_of_use"' in html and 'name="max_grant_days"' in html
    assert 'name="requires_head_approval"' in html
    data = {
        "sharing_type": "conditional",
        "scope": "all",
        "conditions": "仅用于核验",
        "terms_of_use": "新的使用条款",
        "max_grant_days": "14",
        "requires_head_approval": "on",
    }
    assert steward.post(url, data).status_code == 302
    conditional.refresh_from_db()
    assert conditional.terms_of_use == "新的使用条款"
    assert conditional.max_grant_days == 14 and conditional.requires_head_approval is True
    bad = steward.post(url, {**data, "max_grant_days": "5000"})
    assert bad.status_code == 422 and "A whole number of days from 1 to 3650." in html_of(bad)


# --- navigation and the admin -----------------------------------------------------------------


def test_navbar_links(client_for, people, conditional):
    make_request(people["social_member"], conditional)
    steward_html = html_of(client_for(people["tax_steward"]).get("/"))
    assert f'href="{reverse("access:inbox")}"' in steward_html and "sh-inbox-count" in steward_html
    member_html = html_of(client_for(people["social_member"]).get("/"))
    assert f'href="{reverse("access:mine")}"' in member_html
    assert f'href="{reverse("access:inbox")}"' not in member_html


def test_admin_pages(client_for, people, conditional):
    access_request = make_request(people["social_member"], conditional)
    from sharehub.org.services import set_superuser

    admin = client_for(set_superuser(None, people["admin"], True))  # Django's admin is for superusers
    for model in ("accesssettings", "calendarday", "approvalrule", "accessrequest", "grant"):
        assert admin.get(f"/admin/access/{model}/").status_code == 200, model
    html = html_of(admin.get(f"/admin/access/accessrequest/{access_request.pk}/change/"))
    assert "核验" in html
    # Local days are added on the calendar page, which records the event (tests/calendar/test_pages.py).
    assert admin.get("/admin/access/calendarday/add/")["Location"] == reverse("access:calendar") + "#add-local-day"
    assert admin.get("/admin/access/accessrequest/add/").status_code == 403
    assert client_for(people["tax_steward"]).get("/admin/access/accessrequest/").status_code == 302


def test_request_page_shows_the_period_asked_and_the_narrower_one(client_for, people, org_units):
    """A two-step request narrowed by the steward shows both what was asked and what the head decides on."""
    from sharehub.access import services as access
    from sharehub.org.models import User

    resource = factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        sharing_type="conditional",
        requires_head_approval=True,
    )
    member = User.objects.get(pk=people["health_member"].pk)
    request = access.create_request(
        member, resource, purpose="核验", use_category="verification", period_days=60, accept_terms=True
    )
    access.approve_request(User.objects.get(pk=people["tax_steward"].pk), request, period_days=20)
    html = client_for(member).get(f"/requests/{request.pk}/").content.decode()
    assert "sh-period-narrowed" in html
    assert "60 days" in html and "20 days" in html
