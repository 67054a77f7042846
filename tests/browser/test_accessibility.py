"""Every main page passes axe-core's WCAG 2.1 A and AA rules with no serious or critical violation,
in Simplified Chinese and in English, at desktop (1366 px) and phone (390 px) width.

The organization is small but demo-like: three departments (one with a sub-department), a steward,
a member, an auditor, resources of every sharing type and several kinds (a dataset with sensitive
fields, a link, an edited document with versions), a pending request, an approved one with its
grant, notifications, an API token, a search index and the audit events all of that wrote. The dataset
tabs are here in their empty states (no record key, no records); tests/browser/test_exchange_pages.py
checks them with records and imports.
"""

from __future__ import annotations

import pytest

from sharehub.access import services as access
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.org import services as org
from sharehub.org.models import Membership
from sharehub.search import segment
from tests.browser.steps import check_accessibility, sign_in

PASSWORD = "a11y-pass-1618"
FIELDS = [
    {"name": "unified_credit_code", "type": "text", "description": "统一社会信用代码", "sensitivity": "internal"},
    {"name": "company_name", "type": "text", "description": "企业名称", "sensitivity": "public"},
    {"name": "legal_rep_id_number", "type": "text", "description": "法定代表人身份证号", "sensitivity": "sensitive"},
    {"name": "arrears_amount", "type": "decimal", "description": "欠缴金额", "sensitivity": "internal"},
]
BODY = (
    "# 社保缴费基数调整说明\n\n本通知说明 2025 年度社保缴费基数的调整。\n\n"
    "| 项目 | 下限 | 上限 | 单位缴费比例 | 个人缴费比例 | 执行日期 |\n|---|---|---|---|---|---|\n"
    "| 城镇职工基本养老保险缴费基数 | 4,462 | 22,311 | 16% | 8% | 2025-07-01 |\n\n"
    "- 单位**按月**申报\n- 详见 `sbjf-2025` 附件\n"
)


@pytest.fixture
def world(transactional_db):
    """Made before the browser starts (see tests/browser/conftest.py), then indexed and notified."""
    tax = org.create_department(None, name="税务局", code="SWJ", description="税费征收与管理")
    org.create_department(None, name="税务局稽查局", code="SWJJC", parent=tax)
    social = org.create_department(None, name="社会保险中心", code="SBZX")
    org.create_department(None, name="卫生健康委员会", code="WJW")

    def person(username, display, department, role=Membership.Role.MEMBER, **flags):
        user = org.create_person(
            None, username=username, password=PASSWORD, display_name=display, check_password=False, **flags
        )
        if department is not None:
            org.set_membership(None, user, department, role)
        return user

    steward = person("li_steward", "李青", tax, Membership.Role.STEWARD)
    social_steward = person("wu_steward", "吴刚", social, Membership.Role.STEWARD)
    member = person("zhao_member", "赵敏", social)
    person("qin_auditor", "秦审", None, is_auditor=True)

    def publish(title, kind=Resource.Kind.DOCUMENT, author=steward, owner=tax, **fields):
        return catalog.create_resource(author, owner_department=owner, kind=kind, publish=True, title=title, **fields)

    conditional = {"sharing_type": Resource.SharingType.CONDITIONAL, "conditions": "仅用于社保费征缴核对"}
    made = {
        "open": publish(
            "社保缴费基数调整通知", Resource.Kind.NOTICE, summary="2025 年度社保缴费基数", body=BODY, tags=["社保"]
        ),
        "granted": publish(
            "企业欠缴社保费名单",
            Resource.Kind.DATASET,
            summary="欠缴社保费的企业",
            dataset_fields=FIELDS,
            terms_of_use="不得复制给第三方。",
            **conditional,
        ),
        "pending": publish("纳税人登记信息", Resource.Kind.DATASET, dataset_fields=FIELDS, **conditional),
        "requestable": publish("社保稽核线索", Resource.Kind.DATASET, dataset_fields=FIELDS, **conditional),
        "restricted": publish(
            "税务稽查案件名单",
            sharing_type=Resource.SharingType.RESTRICTED,
            restriction_basis="《税收征收管理法》第八条",
        ),
        "link": publish("电子税务局", Resource.Kind.LINK, link_url="https://etax.example.cn/", tags=["社保"]),
        "social": publish("参保人数月报", Resource.Kind.DATASET, author=social_steward, owner=social, tags=["社保"]),
    }
    catalog.update_resource(steward, made["open"], {"summary": "2025 年度社保缴费基数上下限"}, note="更正上下限")

    def ask(resource):
        return access.create_request(
            member,
            resource,
            purpose="核对社保费欠缴企业，用于催缴通知。",
            use_category="verification",
            period_days=30,
            accept_terms=True,
            fields=["unified_credit_code", "company_name"],
        )

    approved = access.approve_request(steward, ask(made["granted"]), period_days=20, note="先批准 20 天。")
    pending = ask(made["pending"])
    org.issue_token(steward, steward, "报表同步")
    segment.reset()
    consumers.run_pending()
    codes = {name: resource.code for name, resource in made.items()}
    return {"codes": codes, "tax": tax, "approved": approved.pk, "pending": pending.pk}


def _pages(world) -> dict[str, list[str]]:
    """The addresses each person opens, after signing in."""
    c = world["codes"]
    return {
        "li_steward": [
            "/resources/",
            "/resources/?sharing_type=conditional&kind=dataset",
            f"/resources/{c['open']}/",
            f"/resources/{c['granted']}/",
            f"/resources/{c['restricted']}/",
            "/resources/new/",
            f"/resources/{c['open']}/edit/",
            f"/resources/{c['open']}/sharing/",
            f"/resources/{c['open']}/versions/",
            f"/resources/{c['open']}/diff/?a=1&b=2",
            f"/resources/{c['granted']}/explain/",
            f"/resources/{c['granted']}/grants/",
            f"/resources/{c['granted']}/data/",
            f"/resources/{c['granted']}/data/schema/",
            f"/resources/{c['granted']}/data/import/",
            "/requests/inbox/",
            f"/requests/{world['pending']}/",
            "/notifications/",
            "/search/?q=社保",
            "/departments/",
            f"/departments/{world['tax'].pk}/",
            "/tokens/",
            "/accounts/password/",
        ],
        "zhao_member": [
            f"/resources/{c['requestable']}/",
            f"/resources/{c['requestable']}/explain/",
            f"/resources/{c['requestable']}/request/",
            f"/resources/{c['requestable']}/data/",
            f"/resources/{c['granted']}/data/",
            "/requests/",
            f"/requests/{world['approved']}/",
            "/grants/",
            "/notifications/",
            "/search/?q=社保",
        ],
        "qin_auditor": ["/audit/"],
    }


SHOTS = {"/resources/", "/resources/{granted}/", "/resources/{open}/", "/requests/inbox/", "/notifications/", "/audit/"}
LANGUAGES = [("zh-CN", "zh-hans"), ("en-US", "en")]
WIDTHS = [1366, 390]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_main_pages_pass_axe_in_both_languages_at_both_widths(world, live_server, new_page, page_errors, shot):
    """One organization for all four runs (making it is the slow part); every failure is collected
    and reported together, each under its page's address, language and width."""
    base = live_server.url
    shots = {path.format(**world["codes"]) for path in SHOTS}
    failures = []
    for locale, lang in LANGUAGES:
        for width in WIDTHS:
            for username, paths in _pages(world).items():
                page = new_page(locale=locale, width=width)
                sign_in(page, base, username, PASSWORD)
                assert page.locator("html").get_attribute("lang") == lang, f"{locale}: the page is not in {lang}"
                for path in paths:
                    response = page.goto(f"{base}{path}")
                    assert response is not None and response.status == 200, f"{path}: {response and response.status}"
                    try:
                        check_accessibility(page)
                    except AssertionError as failure:
                        failures.append(f"[{lang}, {width} px] {failure}")
                    if path in shots:
                        shot(page, f"{lang}-{width}-{username}-{path.strip('/').replace('/', '-')}")
                page.context.close()
    assert not failures, "\n\n".join(failures)
    assert page_errors == [], page_errors
