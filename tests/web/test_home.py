"""The home page: what changed recently, only what the viewer may see."""

from __future__ import annotations

import pytest

from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def resources(org_units, people):
    tax, health = org_units["tax"], org_units["health"]
    by = people["tax_steward"]
    return {
        "tax_open": factories.resource(tax, by=by, title="税务公开目录"),
        "tax_restricted": factories.resource(tax, by=by, sharing_type="restricted", title="税务内部机密台账"),
        "tax_conditional": factories.resource(tax, by=by, sharing_type="conditional", title="纳税人有条件数据"),
        "tax_draft": factories.resource(tax, by=by, publish=False, title="税务草稿文件"),
        "health_open": factories.resource(health, title="卫健公开通知"),
    }


def test_home_lists_visible_resources_only(resources, people, client_for):
    response = client_for(people["health_member"]).get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "税务公开目录" in html
    assert "纳税人有条件数据" in html  # the entry of a conditional resource is visible
    assert "卫健公开通知" in html
    assert "税务内部机密台账" not in html
    assert resources["tax_restricted"].code not in html
    assert "税务草稿文件" not in html


def test_home_in_my_departments_section(resources, people, client_for):
    response = client_for(people["tax_member"]).get("/")
    mine = [r.pk for r in response.context["recent_mine"]]
    across = [r.pk for r in response.context["recent_across"]]
    assert resources["tax_restricted"].pk in mine  # members of the owner see their own restricted entries
    assert resources["health_open"].pk not in mine
    assert resources["health_open"].pk in across
    assert resources["tax_draft"].pk not in mine  # drafts are not "changes" yet
    assert "税务局" in response.content.decode()  # my department listed with my role


def test_home_query_count_does_not_grow_with_rows(org_units, people, client_for, django_assert_max_num_queries):
    for _ in range(12):
        factories.resource(org_units["tax"], by=people["tax_steward"])
    client = client_for(people["tax_member"])
    client.get("/")
    with django_assert_max_num_queries(15):
        assert client.get("/").status_code == 200


def test_links_are_the_reversed_addresses(resources, people, client_for):
    from django.urls import reverse

    html = client_for(people["tax_member"]).get("/").content.decode()
    assert f'href="{reverse("catalog:detail", args=[resources["tax_open"].code])}"' in html
    assert f'href="{reverse("org:department", args=[resources["tax_open"].owner_department_id])}"' in html
