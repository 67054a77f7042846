"""Unknown means 404 on every resource page (invariant 2)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests import factories
from tests.catalog.helpers import counts


@pytest.fixture
def hidden(org_units, people, tmp_path):
    """A restricted resource of 税务局 with an attachment: health members must not learn it exists."""
    from sharehub.catalog import services

    resource = factories.resource(org_units["tax"], by=people["tax_steward"], sharing_type="restricted")
    attachment = services.add_attachment(people["tax_steward"], resource, "名单.txt", [b"secret"])
    return resource, attachment


def routes(resource, attachment):
    code = resource.code
    return [
        ("get", reverse("catalog:detail", args=[code])),
        ("get", reverse("catalog:detail", args=[resource.pk])),
        ("get", reverse("catalog:edit", args=[code])),
        ("post", reverse("catalog:edit", args=[code])),
        ("get", reverse("catalog:sharing", args=[code])),
        ("post", reverse("catalog:sharing", args=[code])),
        ("get", reverse("catalog:versions", args=[code])),
        ("get", reverse("catalog:diff", args=[code]) + "?a=1&b=1"),
        ("get", reverse("catalog:explain", args=[code])),
        ("get", reverse("catalog:attachment", args=[code, attachment.pk])),
        ("post", reverse("catalog:attach", args=[code])),
        ("post", reverse("catalog:detach", args=[code, attachment.pk])),
        ("post", reverse("catalog:transition", args=[code, "archive"])),
        ("post", reverse("catalog:transition", args=[code, "publish"])),
        ("post", reverse("catalog:transition", args=[code, "restore"])),
    ]


def test_every_resource_page_is_404_for_an_invisible_resource(client_for, people, hidden):
    resource, attachment = hidden
    client = client_for(people["health_member"])
    before = counts()  # after signing in, which is an event of its own
    for method, url in routes(resource, attachment):
        response = getattr(client, method)(url)
        assert response.status_code == 404, (method, url, response.status_code)
        assert resource.title not in response.content.decode()
    assert counts() == before


def test_a_draft_of_another_department_is_404(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], publish=False)
    client = client_for(people["health_member"])
    for name in ("detail", "explain", "versions", "edit"):
        assert client.get(reverse(f"catalog:{name}", args=[resource.code])).status_code == 404


def test_missing_resource_and_odd_identifiers_are_404(client_for, people, org_units):
    client = client_for(people["tax_member"])
    for ident in ("NOPE-2025-0001", "999999", "9" * 40, "%E4%B8%AD"):
        assert client.get(f"/resources/{ident}/").status_code == 404
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    assert client.get(reverse("catalog:attachment", args=[resource.code, 987654])).status_code == 404


def test_scoped_resource_is_404_outside_its_scope(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], scope=[org_units["hr"]])
    assert client_for(people["health_member"]).get(reverse("catalog:detail", args=[resource.code])).status_code == 404
    assert client_for(people["social_member"]).get(reverse("catalog:detail", args=[resource.code])).status_code == 200
