"""The pages' ARIA references resolve: every id an element names in aria-describedby, aria-labelledby
or aria-controls is rendered on the same page, so screen readers read the form help and errors (the
review found help text referenced by ids that were never rendered). And the bell's accessible name
contains the count it shows."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from sharehub.access import services as access
from sharehub.events.consumers import run_pending
from tests import factories

REFERENCES = ("aria-describedby", "aria-labelledby", "aria-controls")


class _Ids(HTMLParser):
    """The ids on a page and the ids its ARIA attributes refer to."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.references: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.bell: list[str] | None = None  # the bell's text, collected while inside it
        self.bell_label: str | None = None
        self._bell_depth = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        for name in REFERENCES:
            for ref in (attributes.get(name) or "").split():
                self.references.append((tag, name, ref))
        if self._bell_depth:
            self._bell_depth += 1
        elif "sh-bell" in (attributes.get("class") or "").split():
            self.bell, self.bell_label, self._bell_depth = [], attributes.get("aria-label"), 1

    def handle_endtag(self, tag):
        if self._bell_depth:
            self._bell_depth -= 1

    def handle_data(self, data):
        if self._bell_depth and self.bell is not None:
            self.bell.append(data)


def parse(html: str) -> _Ids:
    parser = _Ids()
    parser.feed(html)
    return parser


def dangling(html: str) -> list[str]:
    page = parse(html)
    return [f"<{tag} {name}={ref!r}>" for tag, name, ref in page.references if ref not in page.ids]


@pytest.fixture
def dataset(org_units, people):
    fields = [{"name": "credit_code", "sensitivity": "internal"}, {"name": "id_number", "sensitivity": "sensitive"}]
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        kind="dataset",
        sharing_type="conditional",
        conditions="仅用于核对",
        dataset_fields=fields,
    )


@pytest.fixture
def pending(people, dataset):
    return access.create_request(
        people["social_member"],
        dataset,
        purpose="核验",
        use_category="verification",
        period_days=10,
        accept_terms=True,
        fields=["credit_code", "id_number"],
    )


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_form_pages_render_every_id_their_aria_attributes_name(client_for, people, dataset, pending, language):
    steward = client_for(people["tax_steward"])
    member = client_for(people["social_member"])
    for client in (steward, member):
        client.cookies["django_language"] = language
    other = factories.resource(dataset.owner_department, by=people["tax_steward"], sharing_type="conditional")
    pages = {
        "resource form": steward.get(reverse("catalog:create")),
        "resource form with errors": steward.post(reverse("catalog:create"), {"action": "draft", "kind": "document"}),
        "edit form": steward.get(reverse("catalog:edit", args=[dataset.code])),
        "sharing form": steward.get(reverse("catalog:sharing", args=[dataset.code])),
        "catalog filters": steward.get(reverse("catalog:list")),
        "approve form": steward.get(reverse("access:detail", args=[pending.pk])),
        "approve form with errors": steward.post(reverse("access:approve", args=[pending.pk]), {"period_days": "0"}),
        "request form": member.get(reverse("access:request", args=[other.code])),
        "request form with errors": member.post(reverse("access:request", args=[other.code]), {"purpose": ""}),
        "password change": steward.get(reverse("password_change")),
    }
    described = 0
    for name, response in pages.items():
        assert response.status_code in (200, 400, 422), f"{name}: {response.status_code}"
        html = response.content.decode()
        assert dangling(html) == [], f"{name}: references to ids that are not on the page"
        described += sum(1 for _tag, attr, _ref in parse(html).references if attr == "aria-describedby")
    assert described >= 10, "the forms no longer describe their fields: the test would check nothing"
    errors = parse(pages["resource form with errors"].content.decode())
    assert any(ref.endswith("_error") for _tag, attr, ref in errors.references if attr == "aria-describedby")


def test_the_bells_accessible_name_contains_the_count_it_shows(client_for, people, pending):
    run_pending()
    html = client_for(people["tax_steward"]).get(reverse("home")).content.decode()
    bell = parse(html)
    assert bell.bell is not None, "no bell on the page"
    assert bell.bell_label is None, "an aria-label would replace the visible count in the accessible name"
    name = " ".join("".join(bell.bell).split())
    assert name == "Notifications 1 unread"


class _Controls(HTMLParser):
    """The form controls of a page that need a name (not hidden, not a button) and the ids labels point at."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[dict] = []
        self.label_for: set[str] = set()
        self.regions: list[dict] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "label" and attributes.get("for"):
            self.label_for.add(attributes["for"])
        if tag in ("input", "select", "textarea") and attributes.get("type") not in ("hidden", "submit", "button"):
            self.controls.append(attributes)
        if "table-responsive" in (attributes.get("class") or "").split():
            self.regions.append(attributes)


@pytest.fixture
def exchange_pages(org_units, people, monkeypatch, tmp_path):
    """A keyed dataset of 税务局 with a record, granted in part to 社会保险中心, and a checked import with a problem."""
    from sharehub.exchange import crypto, schema, services
    from tests.exchange.conftest import ROWS, TAX_FIELDS, grant

    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv(crypto.FIELD_KEYS_ENV, raising=False)
    monkeypatch.delenv(crypto.BLIND_KEY_ENV, raising=False)
    crypto.reset_keyring()
    resource = factories.resource(
        org_units["tax"], by=people["tax_steward"], kind="dataset", sharing_type="conditional", title="纳税人登记信息"
    )
    schema.change_dataset(people["tax_steward"], resource, TAX_FIELDS, key_fields=["credit_code"])
    services.upsert(people["tax_steward"], resource, ROWS)
    grant(resource, department=org_units["social"], fields=["name"])
    yield resource
    crypto.reset_keyring()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_exchange_pages_name_every_control_and_let_tables_scroll_by_keyboard(
    client_for, people, exchange_pages, language
):
    """Every field of the data, schema and import pages has a label (or an aria-label), no ARIA reference
    dangles, and a wide table sits in a named region that takes the keyboard focus, so it can be scrolled."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    code = exchange_pages.code
    steward, member = client_for(people["tax_steward"]), client_for(people["social_member"])
    for client in (steward, member):
        client.cookies["django_language"] = language
    upload = SimpleUploadedFile("a.csv", "统一社会信用代码,纳税人名称\n91350100M000100Y44,甲公司\n".encode())
    job = steward.post(reverse("exchange:import", args=[code]), {"file": upload})
    assert job.status_code == 302
    pages = {
        "data tab (owner)": steward.get(reverse("exchange:data", args=[code])),
        "data tab (grantee)": member.get(reverse("exchange:data", args=[code])),
        "schema editor": steward.get(reverse("exchange:schema", args=[code])),
        "import": steward.get(reverse("exchange:import", args=[code])),
        "import with a problem": steward.get(job.url),
    }
    for name, response in pages.items():
        assert response.status_code == 200, f"{name}: {response.status_code}"
        html = response.content.decode()
        assert dangling(html) == [], f"{name}: references to ids that are not on the page"
        page = _Controls()
        page.feed(html)
        unnamed = [
            c.get("name") or c.get("id")
            for c in page.controls
            if not c.get("aria-label") and not c.get("aria-labelledby") and c.get("id") not in page.label_for
        ]
        assert unnamed == [], f"{name}: controls without a label"
        for region in page.regions:
            if region.get("role") == "region":
                assert region.get("tabindex") == "0" and region.get("aria-label"), f"{name}: {region}"
    assert "sh-import-preview" in pages["import with a problem"].content.decode()
    schema_page = _Controls()
    schema_page.feed(pages["schema editor"].content.decode())
    assert len(schema_page.controls) > 50, "the schema editor's fields were not seen: the test would check nothing"
    assert any(r.get("role") == "region" for r in _regions(pages["data tab (grantee)"].content.decode()))


def _regions(html: str) -> list[dict]:
    page = _Controls()
    page.feed(html)
    return page.regions
