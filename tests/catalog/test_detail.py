"""The detail, explanation, versions and diff pages, and who sees what on them."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from sharehub.catalog import services
from tests import factories
from tests.catalog.helpers import grant, reads


def detail(resource):
    return reverse("catalog:detail", args=[resource.code])


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        title="企业纳税明细",
        sharing_type="conditional",
        body="这是只有授权后才能看的正文 SECRET-BODY",
        conditions="仅用于社保缴费基数核验",
    )


def test_open_resource_detail_shows_everything(client_for, people, org_units):
    resource = factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        title="纳税信用等级名单",
        body="# 标题\n\n正文 **加粗**",
        tags=["信用"],
    )
    response = client_for(people["health_member"]).get(detail(resource))
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>标题</h1>" in html and "<strong>加粗</strong>" in html
    assert resource.code in html and "税务局" in html and "#信用" in html
    assert "sh-badge-open" in html
    assert reverse("catalog:edit", args=[resource.code]) not in html  # not an editor
    assert not reads(resource).exists()  # open content is not logged


def test_detail_by_id_works_too(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    response = client_for(people["tax_member"]).get(reverse("catalog:detail", args=[resource.pk]))
    assert response.status_code == 200
    assert resource.title in response.content.decode()


def test_conditional_entry_is_visible_but_the_content_is_not(client_for, people, conditional):
    response = client_for(people["health_member"]).get(detail(conditional))
    html = response.content.decode()
    assert response.status_code == 200
    assert conditional.title in html
    assert "SECRET-BODY" not in html
    assert "request access from 税务局" in html  # the policy's reason
    assert "仅用于社保缴费基数核验" in html  # conditions, part of the entry
    assert "tax_steward" in html  # who to contact
    assert reverse("catalog:explain", args=[conditional.code]) in html
    assert reverse("catalog:versions", args=[conditional.code]) not in html
    assert not reads().exists()


def test_a_grant_opens_the_content_and_each_view_is_recorded_once(client_for, people, conditional):
    viewer = people["health_member"]
    grant(conditional, user=viewer)
    client = client_for(viewer)
    html = client.get(detail(conditional)).content.decode()
    assert "SECRET-BODY" in html
    assert reads(conditional).count() == 1
    event = reads(conditional).get()
    assert event.details["via"] == "page"
    assert event.actor == viewer
    client.get(detail(conditional))
    assert reads(conditional).count() == 2


def test_a_department_grant_works_the_same(client_for, people, org_units, conditional):
    grant(conditional, department=org_units["health"])
    assert "SECRET-BODY" in client_for(people["health_member"]).get(detail(conditional)).content.decode()


def test_owner_reads_closed_content_and_the_read_is_logged(client_for, people, conditional):
    html = client_for(people["tax_member"]).get(detail(conditional)).content.decode()
    assert "SECRET-BODY" in html
    assert reads(conditional).count() == 1


def test_restricted_resource_of_another_department_is_not_found(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="restricted")
    assert client_for(people["health_member"]).get(detail(resource)).status_code == 404
    assert client_for(people["tax_member"]).get(detail(resource)).status_code == 200


def test_markdown_is_sanitized(client_for, people, org_units):
    body = (
        "<script>alert('x')</script>\n\n"
        "[click](javascript:alert(1)) <javascript:alert(4)> and <img src=x onerror=alert(2)>\n\n"
        '<a href="javascript:alert(3)">raw</a>\n\n[ok](https://example.org/)'
    )
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], body=body)
    html = client_for(people["health_member"]).get(detail(resource)).content.decode()
    content = html.split('class="sh-body"', 1)[1].split("</div>", 1)[0]
    assert "<script" not in content
    assert not re.search(r"<[a-z]+\b[^>]*javascript:", content)  # only as escaped text, never in a tag
    assert "<img" not in content  # the raw tag stays escaped text, so its onerror never runs
    assert "&lt;script&gt;" in content
    assert 'href="https://example.org/"' in content


def test_title_is_escaped(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="<script>alert(1)</script>")
    html = client_for(people["health_member"]).get(detail(resource)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_related_resources_are_filtered_by_the_policy(client_for, people, org_units):
    steward = people["tax_steward"]
    hidden = factories.resource(org_units["tax"], by=steward, title="不予共享的关联资源", sharing_type="restricted")
    shown = factories.resource(org_units["tax"], by=steward, title="公开的关联资源")
    main = factories.resource(org_units["tax"], by=steward, title="主资源")
    services.update_resource(steward, main, {"related": [hidden.pk, shown.pk]})
    html = client_for(people["health_member"]).get(detail(main)).content.decode()
    assert "公开的关联资源" in html
    assert "不予共享的关联资源" not in html and hidden.code not in html
    assert "不予共享的关联资源" in client_for(people["tax_member"]).get(detail(main)).content.decode()


def test_manager_sees_the_manage_buttons(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], publish=False)
    html = client_for(people["tax_steward"]).get(detail(resource)).content.decode()
    for name in ("edit", "sharing"):
        assert reverse(f"catalog:{name}", args=[resource.code]) in html
    assert reverse("catalog:transition", args=[resource.code, "publish"]) in html
    member_html = client_for(people["tax_member"]).get(detail(resource)).content.decode()
    assert reverse("catalog:edit", args=[resource.code]) in member_html
    assert reverse("catalog:sharing", args=[resource.code]) not in member_html
    assert reverse("catalog:transition", args=[resource.code, "publish"]) not in member_html


def test_explain_page_for_a_conditional_resource(client_for, people, conditional):
    people["tax_steward"].email = "steward@tax.example.org"
    people["tax_steward"].save()
    response = client_for(people["health_member"]).get(reverse("catalog:explain", args=[conditional.code]))
    html = response.content.decode()
    assert response.status_code == 200
    assert "the catalog entry is visible to your department" in html
    assert "request access from 税务局" in html
    assert "Only members of 税务局 edit this resource." in html
    assert "仅用于社保缴费基数核验" in html
    assert "mailto:steward@tax.example.org" in html
    assert f'href="{reverse("access:request", args=[conditional.code])}"' in html
    assert "SECRET-BODY" not in html


def test_explain_page_for_a_reader_has_no_request_button(client_for, people, conditional):
    grant(conditional, user=people["health_member"])
    html = client_for(people["health_member"]).get(reverse("catalog:explain", args=[conditional.code])).content.decode()
    assert "You hold a grant until" in html
    assert "Requests open with the access process" not in html


def test_versions_and_diff(client_for, people, org_units):
    steward = people["tax_steward"]
    resource = factories.resource(org_units["tax"], by=steward, title="旧标题", body="第一行\n第二行")
    services.update_resource(steward, resource, {"title": "新标题", "body": "第一行\n改过的第二行"}, note="改标题")
    client = client_for(people["health_member"])
    versions = client.get(reverse("catalog:versions", args=[resource.code]))
    html = versions.content.decode()
    assert versions.status_code == 200
    assert "改标题" in html and 'name="a" value="1"' in html and 'name="b" value="2"' in html
    diff = client.get(reverse("catalog:diff", args=[resource.code]), {"a": 2, "b": 1})
    html = diff.content.decode()
    assert diff.status_code == 200
    assert "sh-diff" in html
    assert "旧标题" in html and "新标题" in html and "改过的第二行" in html
    assert 'class="sh-diff-line removed"' in html and 'class="sh-diff-line added"' in html


def test_diff_with_bad_or_missing_versions(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    client = client_for(people["tax_member"])
    url = reverse("catalog:diff", args=[resource.code])
    assert client.get(url, {"a": "x", "b": "1"}).status_code == 422
    assert client.get(url).status_code == 422
    assert client.get(url, {"a": "1", "b": "7"}).status_code == 404


def test_versions_and_diff_need_read(client_for, people, conditional):
    client = client_for(people["health_member"])
    response = client.get(reverse("catalog:versions", args=[conditional.code]))
    assert response.status_code == 403
    assert "request access from 税务局" in response.content.decode()
    assert client.get(reverse("catalog:diff", args=[conditional.code]), {"a": 1, "b": 1}).status_code == 403
