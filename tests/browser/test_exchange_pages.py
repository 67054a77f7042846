"""Every page of a dataset's records (the Data tab for the owner with and without filters, for a grantee, for
a grantee who must state a purpose of use (a consent dataset) and for a refused reader,
the schema editor, the Import tab, an import with problems and an applied one) in Simplified Chinese and
English, at desktop (1366 px) and phone (375 px) width: no serious or critical axe violation, nothing
wider than the screen (wide tables scroll inside their own region), no English left on the Chinese pages,
and a screenshot of each under test-artifacts/ to look at."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.exchange import schema, services
from sharehub.org import services as org
from sharehub.org.models import Membership
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "xpages-pass-2236"
FIELDS = [
    {"name": "credit_code", "type": "credit_code", "sensitivity": "public", "label_zh": "统一社会信用代码",
     "label_en": "Unified social credit code", "required": True},
    {"name": "name", "type": "text", "sensitivity": "internal", "label_zh": "纳税人名称", "label_en": "Taxpayer"},
    {"name": "legal_person", "type": "text", "sensitivity": "sensitive", "masking": "partial",
     "label_zh": "法定代表人", "label_en": "Legal representative"},
    {"name": "legal_id", "type": "resident_id", "sensitivity": "sensitive", "label_zh": "法定代表人身份证号"},
    {"name": "phone", "type": "phone", "sensitivity": "internal", "masking": "partial", "label_zh": "联系电话"},
    {"name": "revenue", "type": "decimal", "sensitivity": "internal", "masking": "hidden", "label_zh": "营业收入"},
    {"name": "registered", "type": "date", "sensitivity": "public", "label_zh": "登记日期"},
    {"name": "industry", "type": "enum", "choices": ["制造业", "批发和零售业", "信息传输、软件和信息技术服务业"],
     "label_zh": "行业"},
    {"name": "risk_note", "type": "text", "sensitivity": "secret", "label_zh": "风险备注"},
]  # fmt: skip
ROWS = [
    {"credit_code": "91350100M000100Y43", "name": "福州示例科技有限公司", "legal_person": "张三",
     "legal_id": "11010519491231002X", "phone": "13812345678", "revenue": "1200000.50",
     "registered": "2015-03-02", "industry": "制造业", "risk_note": "重点关注"},
    {"credit_code": "91310115798984123F", "name": "上海样例国际贸易与供应链管理有限责任公司", "legal_person": "李四光",
     "legal_id": "110105198001011238", "phone": "021-61234567", "revenue": "880000",
     "registered": "2018-11-20", "industry": "信息传输、软件和信息技术服务业", "risk_note": ""},
]  # fmt: skip
UPLOAD = (
    "统一社会信用代码,纳税人名称,法定代表人身份证号,电话号码,登记日期\n"
    "91110108MA01ABCD2H,北京样本咨询有限公司,320102198506153013,13900001111,2020-02-30\n"
    "91350100M000100Y43,福州示例科技有限公司,11010519491231002X,13812345678,2015-03-02\n"
)
# English a Chinese page must not show (the pages' own words, not the data)
ENGLISH = ["Schema", "Import", "record key", "Masking rule", "Upload", "Columns", "Problems", "Delete all", "masked"]


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py); the imports go through the pages."""
    tax = org.create_department(None, name="税务局", code="SWJ")
    social = org.create_department(None, name="社会保险中心", code="SBZX")
    steward = org.create_person(
        None, username="li_steward", password=PASSWORD, display_name="李青", check_password=False
    )
    org.set_membership(None, steward, tax, Membership.Role.STEWARD)
    member = org.create_person(
        None, username="zhao_member", password=PASSWORD, display_name="赵敏", check_password=False
    )
    org.set_membership(None, member, social, Membership.Role.MEMBER)

    def dataset(title, **consent):
        resource = catalog.create_resource(
            steward,
            owner_department=tax,
            kind=Resource.Kind.DATASET,
            publish=True,
            title=title,
            sharing_type=Resource.SharingType.CONDITIONAL,
            conditions="仅用于社保参保登记核验",
        )
        schema.change_dataset(steward, resource, FIELDS, key_fields=["credit_code"], **consent)
        services.upsert(steward, resource, ROWS)
        return resource

    granted, closed = dataset("纳税人登记信息"), dataset("企业欠税明细")
    consented = dataset("法定代表人就医记录", consent_required=True, subject_field="legal_id")
    now = timezone.now()
    for resource, fields in ((granted, ["credit_code", "name"]), (consented, [])):
        Grant.objects.create(
            resource=resource,
            grantee_department=social,
            purpose="社保稽核",
            fields=fields,
            valid_from=now - timedelta(minutes=1),
            valid_until=now + timedelta(days=30),
        )
    client = Client()
    client.force_login(steward)
    jobs = []
    for name in ("applied.csv", "纳税人登记-有问题的行.csv"):
        upload = SimpleUploadedFile(name, UPLOAD.encode(), content_type="text/csv")
        response = client.post(reverse("exchange:import", args=[granted.code]), {"file": upload})
        assert response.status_code == 302, response.status_code
        jobs.append(response.url)
    mapping = {"map-0": "credit_code", "map-1": "name", "map-2": "legal_id", "map-3": "phone", "map-4": "registered"}
    applied = client.post(jobs[0], mapping | {"action": "apply", "mode": "valid"})
    assert applied.status_code == 302, applied.status_code
    client.post(jobs[1], mapping | {"action": "check", "mode": "all"})
    return {
        "granted": granted.code,
        "closed": closed.code,
        "consented": consented.code,
        "applied": jobs[0],
        "checked": jobs[1],
    }


def _pages(world) -> dict[str, list[str]]:
    g, c = world["granted"], world["closed"]
    return {
        "li_steward": [
            f"/resources/{g}/data/",
            f"/resources/{g}/data/?q=福州&sort=-registered",
            f"/resources/{g}/data/?registered__gte=2016-01-01",
            f"/resources/{g}/data/schema/",
            f"/resources/{g}/data/import/",
            world["checked"],
            world["applied"],
        ],
        "zhao_member": [f"/resources/{g}/data/", f"/resources/{c}/data/", f"/resources/{world['consented']}/data/"],
    }


LANGUAGES = [("zh-CN", "zh-hans"), ("en-US", "en")]
WIDTHS = [1366, 375]
OVERFLOW = "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_exchange_pages_in_both_languages_at_both_widths(world, live_server, new_page, page_errors, shot):
    base = live_server.url
    failures = []
    for locale, lang in LANGUAGES:
        for width in WIDTHS:
            for username, paths in _pages(world).items():
                page = new_page(locale=locale, width=width)
                sign_in(page, base, username, PASSWORD)
                for n, path in enumerate(paths):
                    url = path if path.startswith("http") else f"{base}{path}"
                    response = page.goto(url)
                    where = f"[{lang}, {width} px, {username}] {path}"
                    if response is None or response.status != 200:
                        failures.append(f"{where}: status {response and response.status}")
                    try:
                        check_accessibility(page)
                    except AssertionError as failure:
                        failures.append(f"{where}: {failure}")
                    if (extra := page.evaluate(OVERFLOW)) > 0:
                        failures.append(f"{where}: the page is {extra} px wider than the screen")
                    if lang == "zh-hans":
                        text = page.locator("main").inner_text()
                        failures += [f"{where}: English {word!r} left" for word in ENGLISH if word in text]
                    shot(page, f"{lang}-{width}-{username}-{n}")
                page.context.close()
    assert not failures, "\n".join(failures)
    assert page_errors == [], page_errors
