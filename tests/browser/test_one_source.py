"""The one-source page in a browser: a steward of 社保中心 finds that 税务局 already holds most of the
units it collects, at phone and desktop width, in both languages, and goes on to request access with
the authoritative fields ticked."""

from __future__ import annotations

import random

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.exchange import schema, services
from sharehub.exchange.types import make_credit_code
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "one-source-2718"


@pytest.fixture
def world(transactional_db):
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")

    def steward(username, department):
        user = org.create_person(
            None, username=username, password=PASSWORD, display_name=username, check_password=False
        )
        org.set_membership(None, user, department, Membership.Role.STEWARD)
        return user

    tax_steward, social_steward = steward("tax_steward", tax), steward("social_steward", social)
    taxpayers = catalog.create_resource(
        tax_steward,
        owner_department=tax,
        kind=Resource.Kind.DATASET,
        publish=True,
        title="纳税人登记信息",
        sharing_type=Resource.SharingType.CONDITIONAL,
        conditions="仅用于社保费征缴核对",
    )
    schema.change_dataset(
        tax_steward,
        taxpayers,
        [
            {"name": "credit_code", "type": "credit_code", "label_zh": "统一社会信用代码", "label_en": "Credit code"},
            {"name": "taxpayer_name", "type": "text", "label_zh": "纳税人名称", "label_en": "Taxpayer name"},
        ],
        key_fields=["credit_code"],
    )
    rng = random.Random(3)
    codes = sorted({make_credit_code(rng) for _ in range(40)})
    services.upsert(tax_steward, taxpayers, [{"credit_code": c, "taxpayer_name": f"企业{c[-4:]}"} for c in codes[:30]])
    units = catalog.create_resource(
        social_steward, owner_department=social, kind=Resource.Kind.DATASET, publish=True, title="参保单位登记"
    )
    schema.change_dataset(
        social_steward,
        units,
        [
            {"name": "credit_code", "type": "credit_code", "source": taxpayers.pk, "source_field": "credit_code"},
            {"name": "unit_name", "type": "text", "source": taxpayers.pk, "source_field": "taxpayer_name"},
        ],
        key_fields=["credit_code"],
    )
    services.upsert(social_steward, units, [{"credit_code": c, "unit_name": f"单位{c[-4:]}"} for c in codes[10:]])
    return {"units": units.code, "taxpayers": taxpayers.code}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_steward_finds_the_source_and_requests_access(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    sentences = {"zh-CN": "您的 30 条记录中有 20 条已存在于", "en-US": "20 of your 30 records already exist"}
    for locale, sentence in sentences.items():
        for width in (390, 1366):
            page = new_page(locale=locale, width=width)
            sign_in(page, base, "social_steward", PASSWORD)
            page.goto(f"{base}/resources/{world['units']}/")
            check_accessibility(page)
            page.locator(".sh-sources-link").click()
            page.wait_for_url(f"**/resources/{world['units']}/data/sources/")
            check_accessibility(page)
            assert sentence in page.locator(".sh-source-summary").inner_text()
            overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
            assert overflow <= 0, f"{locale} at {width} px scrolls sideways by {overflow} px"
            shot(page, f"{locale}-{width}-sources")
            page.locator(".sh-request-access").click()
            page.wait_for_url(f"**/resources/{world['taxpayers']}/request/**")
            check_accessibility(page)
            assert page.locator("input[value=credit_code]").is_checked()
            assert page.locator("input[value=taxpayer_name]").is_checked()
            page.context.close()
    assert page_errors == [], page_errors
