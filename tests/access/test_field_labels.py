"""Dataset fields on the request and approval pages (issue 10): "label (column_name)" with a
sensitivity badge in the reader's language, never the bare column name; the approval page and the
inbox name the requester's department."""

from __future__ import annotations

import re

from django.urls import reverse

from sharehub.access import services
from sharehub.org import services as org
from tests import factories
from tests.access.conftest import make_request


def html_of(response) -> str:
    return response.content.decode()


def _label_of(html: str, value: str) -> str:
    """The text of the checkbox label for the field `value`."""
    match = re.search(rf'value="{value}"[^>]*>\s*<label[^>]*>(.*?)</label>', html, re.S)
    assert match, value
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_request_form_labels_fields_with_sensitivity(client_for, people, dataset):
    client = client_for(people["social_member"])
    html = html_of(client.get(reverse("access:request", args=[dataset.code])))
    assert _label_of(html, "taxpayer_id") == "纳税人识别号 (taxpayer_id) sensitive"
    assert _label_of(html, "amount") == "金额 (amount) internal"
    assert _label_of(html, "district") == "区县 (district) public"
    client.cookies["django_language"] = "zh-hans"
    html = html_of(client.get(reverse("access:request", args=[dataset.code])))
    assert _label_of(html, "taxpayer_id") == "纳税人识别号 (taxpayer_id) 敏感"
    assert _label_of(html, "district") == "区县 (district) 公开"


def test_a_field_with_a_label_or_nothing(client_for, people, org_units):
    fields = [
        {"name": "legal_rep_id_number", "type": "text", "sensitivity": "secret", "description": ""},
        {"name": "credit_code", "type": "text", "sensitivity": "public", "description": "统一社会信用代码"},
    ]
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], kind="dataset", sharing_type="conditional", dataset_fields=fields
    )
    html = html_of(client_for(people["social_member"]).get(reverse("access:request", args=[resource.code])))
    assert _label_of(html, "legal_rep_id_number") == "legal_rep_id_number secret"
    assert _label_of(html, "credit_code") == "统一社会信用代码 (credit_code) public"


def test_approval_page_labels_fields_and_names_the_requesters_department(client_for, people, org_units, dataset):
    requester = people["social_member"]
    requester.display_name = "何雪"
    requester.save(update_fields=["display_name"])
    org.set_membership(None, requester, org_units["health"], "member")
    access_request = make_request(requester, dataset, fields=["taxpayer_id", "district"])
    steward = client_for(people["tax_steward"])
    html = html_of(steward.get(reverse("access:detail", args=[access_request.pk])))
    assert _label_of(html, "taxpayer_id") == "纳税人识别号 (taxpayer_id) sensitive"
    assert _label_of(html, "district") == "区县 (district) public"
    requester_cell = re.search(r'class="col-8 sh-requester">(.*?)</dd>', html, re.S).group(1)
    assert "何雪" in requester_cell and "社会保险中心 · 卫生健康委员会" in requester_cell
    # the fields asked, in the request's summary, read the same way
    assert 'data-field="taxpayer_id">纳税人识别号' in html
    inbox = html_of(steward.get(reverse("access:inbox")))
    assert "何雪" in inbox and "社会保险中心 · 卫生健康委员会" in inbox


def test_grant_lists_show_labels(client_for, people, dataset):
    access_request = make_request(people["social_member"], dataset, fields=["amount"])
    services.approve_request(people["tax_steward"], access_request)
    html = html_of(client_for(people["social_member"]).get(reverse("access:grants")))
    assert 'data-field="amount">金额' in html
    html = html_of(client_for(people["tax_steward"]).get(reverse("access:resource_grants", args=[dataset.code])))
    assert 'data-field="amount">金额' in html


def test_inbox_statement_count_does_not_grow_with_requesters(client_for, people, org_units, conditional):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    make_request(people["social_member"], conditional)
    client = client_for(people["tax_steward"])
    client.get(reverse("access:inbox"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("access:inbox"))
    for n in range(5):
        make_request(factories.member(org_units["health"], username=f"h{n}"), conditional)
    with CaptureQueriesContext(connection) as many:
        html = html_of(client.get(reverse("access:inbox")))
    assert "h4" in html and html.count("卫生健康委员会") >= 5
    assert len(many.captured_queries) == len(few.captured_queries)
