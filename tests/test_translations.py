"""The Simplified Chinese catalog is complete and the pages people see first come out in Chinese.

The .mo files are built at setup (`make setup` runs compilemessages) and are not committed; this
module compiles them itself when a .po is newer, so it also passes in a fresh checkout.
"""

from __future__ import annotations

import ast
import contextlib
import gettext
import importlib
import os
import re
import shutil
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils.translation import trans_real
from django.utils.translation.trans_real import DjangoTranslation

from sharehub.access import services as access_services
from tests import factories

SHAREHUB_DIR = Path(__file__).resolve().parent.parent / "sharehub"
LOCALE_DIR = SHAREHUB_DIR / "locale"
ZH_PO = LOCALE_DIR / "zh_Hans" / "LC_MESSAGES" / "django.po"

# %(name)s, %s, %d, %%, {name} — a translation must keep exactly the same set.
PLACEHOLDER = re.compile(r"%\([A-Za-z0-9_]+\)[sdifr]|%[sdifr%]|\{[A-Za-z0-9_]*\}")
HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")


def parse_po(path: Path) -> list[dict]:
    """Entries of a .po file as dicts: msgid, msgid_plural, msgctxt, msgstr (a list) and flags.

    The header and obsolete (#~) entries are left out. Entries are separated by blank lines, as
    makemessages writes them."""
    entries: list[dict] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry: dict = {"flags": set(), "msgstr": []}
        key = None
        for line in block.splitlines():
            line = line.strip()
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#") or not line:
                continue
            elif line.startswith('"'):
                if key == "msgstr":
                    entry["msgstr"][-1] += ast.literal_eval(line)
                else:
                    entry[key] += ast.literal_eval(line)
            else:
                word, _, rest = line.partition(" ")
                key = "msgstr" if word.startswith("msgstr") else word
                if key == "msgstr":
                    entry["msgstr"].append(ast.literal_eval(rest))
                else:
                    entry[key] = ast.literal_eval(rest)
        if entry.get("msgid"):
            entries.append(entry)
    return entries


def _label(entry: dict) -> str:
    return repr(entry["msgid"])


@pytest.fixture(scope="module")
def zh_entries():
    return parse_po(ZH_PO)


@pytest.fixture(scope="module", autouse=True)
def compiled_catalogs():
    """Compile the catalogs when a .mo is missing or older than its .po, then drop cached translations."""
    stale = False
    for po in LOCALE_DIR.glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime:
            stale = True
    if stale:
        with contextlib.chdir(SHAREHUB_DIR):
            call_command("compilemessages", verbosity=0)
        gettext._translations.clear()
        trans_real._translations = {}
        trans_real._default = None
        getattr(trans_real.check_for_language, "cache_clear", lambda: None)()


def test_catalog_header_has_one_plural_form():
    text = ZH_PO.read_text(encoding="utf-8")
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in text
    header = text.split("\n\n", 1)[0]
    assert "#, fuzzy" not in header


def test_catalog_is_large_enough_to_be_the_real_one(zh_entries):
    assert len(zh_entries) > 300


def test_every_entry_is_translated_and_none_is_fuzzy(zh_entries):
    untranslated = [_label(e) for e in zh_entries if not all(s.strip() for s in e["msgstr"])]
    fuzzy = [_label(e) for e in zh_entries if "fuzzy" in e["flags"]]
    assert not untranslated, f"untranslated zh_Hans entries: {untranslated}"
    assert not fuzzy, f"fuzzy zh_Hans entries (ignored by compilemessages): {fuzzy}"


def test_plural_entries_have_exactly_one_form(zh_entries):
    wrong = [_label(e) for e in zh_entries if "msgid_plural" in e and len(e["msgstr"]) != 1]
    assert not wrong


def test_placeholders_and_tags_are_kept(zh_entries):
    problems = []
    for e in zh_entries:
        if "msgid_plural" in e:
            # The one Chinese form stands for the plural too, which may name the count the singular leaves out.
            expected = sorted(set(PLACEHOLDER.findall(e["msgid"])) | set(PLACEHOLDER.findall(e["msgid_plural"])))
        else:
            expected = sorted(PLACEHOLDER.findall(e["msgid"]))
        for translation in e["msgstr"]:
            found = PLACEHOLDER.findall(translation)
            found = sorted(set(found)) if "msgid_plural" in e else sorted(found)
            if found != expected:
                problems.append(f"{_label(e)}: placeholders {found} != {expected}")
            if sorted(HTML_TAG.findall(translation)) != sorted(HTML_TAG.findall(e["msgid"])):
                problems.append(f"{_label(e)}: HTML tags differ")
    assert not problems, "\n".join(problems)


def test_chinese_sentences_use_chinese_punctuation(zh_entries):
    """A translated sentence that ends in a full stop ends in 。, not in an ASCII period."""
    wrong = [
        _label(e)
        for e in zh_entries
        if e["msgid"].endswith(".")
        and re.search(r"[\u4e00-\u9fff]", e["msgstr"][0])
        and e["msgstr"][0].rstrip().endswith(".")
    ]
    assert not wrong


def test_compiled_catalog_translates():
    catalog = DjangoTranslation("zh-hans")
    assert catalog.gettext("Sign in") == "登录"
    assert catalog.gettext("Steward") == "资源管理员"
    assert catalog.ngettext("%(n)s resource", "%(n)s resources", 3) == "%(n)s 个资源"


# Pages ---------------------------------------------------------------------------------------------


def _page(client, url: str, **headers) -> str:
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def _assert_chinese(html: str, present: list[str], absent: list[str]) -> None:
    for text in present:
        assert text in html, f"expected {text!r} on the page"
    for text in absent:
        assert text not in html, f"English {text!r} left on the page"


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client, settings):
    """Without Accept-Language the configured default applies: zh-hans (tests/conftest.py sets en for other tests)."""
    if os.environ.get("SHAREHUB_LANGUAGE"):
        pytest.skip("SHAREHUB_LANGUAGE overrides the default language")
    settings.LANGUAGE_CODE = importlib.import_module("sharehub.settings").LANGUAGE_CODE
    assert settings.LANGUAGE_CODE == "zh-hans"
    html = _page(client, "/accounts/login/")
    _assert_chinese(html, ["登录", "用户名", "密码"], [">Sign in<", "Username", "Password<"])


@pytest.mark.django_db
def test_login_page_follows_accept_language_zh(client):
    html = _page(client, "/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9,en;q=0.5")
    _assert_chinese(html, ["登录", "用户名"], ["Username"])


@pytest.mark.django_db
def test_home_page_is_chinese(people, org_units, client_for):
    factories.resource(org_units["tax"], by=people["tax_steward"], title="税务公开目录")
    html = _page(client_for(people["tax_member"]), "/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    _assert_chinese(
        html,
        ["首页", "资源目录", "退出登录", "最近动态", "我的部门与角色", "发布资源", "成员"],
        ["Sign out", "What changed recently", "My departments and roles", "Publish a resource", "Browse the catalog"],
    )


@pytest.mark.django_db
def test_catalog_page_is_chinese(people, org_units, client_for):
    tax = org_units["tax"]
    factories.resource(tax, by=people["tax_steward"], title="税务公开目录")
    factories.resource(tax, by=people["tax_steward"], sharing_type="conditional", title="纳税人有条件数据")
    html = _page(client_for(people["tax_member"]), "/resources/", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    _assert_chinese(
        html,
        ["资源目录", "共享类型", "全部部门", "无条件共享", "有条件共享", "导出 CSV", "2 个资源"],
        ["Resource catalog", "All departments", "Sharing type", "Export CSV", "2 resources", "(无条件共享)"],
    )


def _conditional(org_units, people):
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        sharing_type="conditional",
        title="企业纳税明细",
        terms_of_use="不得向组织外提供。",
        max_grant_days=60,
    )


@pytest.mark.django_db
def test_request_form_is_chinese(people, org_units, client_for):
    """A member of another department asks for a conditional resource's content."""
    resource = _conditional(org_units, people)
    html = _page(
        client_for(people["social_member"]), f"/resources/{resource.code}/request/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    _assert_chinese(
        html,
        [
            "申请共享“企业纳税明细”",
            "申请用途",
            "用途类别",
            "业务核验",
            "授权期限（天）",
            "该资源的授权期限最长 60 天。",
            "授权对象",
            "本人",
            "使用条款",
            "我已阅读并接受使用条款",
            "提交申请",
            "后续流程",
            "最长授权期限",
            "60 天",
        ],
        [
            "Request access",
            "Purpose",
            "Intended use",
            "business verification",
            "Period (days)",
            "For whom",
            "For myself",
            "Terms of use",
            "I accept the terms of use",
            "Send the request",
            "What happens next",
            "Longest grant",
            "60 days",
        ],
    )


@pytest.mark.django_db
def test_inbox_is_chinese(people, org_units, client_for):
    """The steward of the owner department sees a waiting request in the inbox."""
    resource = _conditional(org_units, people)
    access_services.create_request(
        people["social_member"],
        resource,
        purpose="核验缴费基数",
        use_category="verification",
        period_days=30,
        accept_terms=True,
        for_department=org_units["social"],
    )
    html = _page(client_for(people["tax_steward"]), "/requests/inbox/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    _assert_chinese(
        html,
        [
            "待您审批的申请",
            "待办",
            "我的申请",
            "我的授权",
            "全部待办",
            "全部资源",
            "申请人",
            "授权期限",
            "办理时限",
            "待资源管理员审批",
            "30 天",
            "为社会保险中心申请",
            "批量审批所选申请",
            "按申请批准",
            "驳回",
            "全选",
        ],
        [
            "Requests waiting for your decision",
            "My requests",
            "My grants",
            "All waiting",
            "All resources",
            "Requester",
            "Deadline",
            "awaiting the steward",
            "30 days",
            "Decide the ticked requests",
            "Approve as asked",
            "Reject</button>",
            "Select all",
        ],
    )


@pytest.mark.django_db
def test_english_is_still_available(people, client_for):
    html = _page(client_for(people["tax_member"]), "/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Sign out" in html


def test_the_catalog_holds_every_message_of_the_code(tmp_path):
    """makemessages over a copy of the tree adds nothing to translate: a string added to the code without an
    entry in the catalog would show in English on Chinese pages, and the checks above would not see it."""
    copy = tmp_path / "sharehub"
    shutil.copytree(SHAREHUB_DIR, copy, ignore=shutil.ignore_patterns("__pycache__", "static", "*.mo"))
    with contextlib.chdir(copy):
        call_command("makemessages", locale=["zh_Hans"], no_obsolete=True, verbosity=0)
    entries = parse_po(copy / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")
    missing = [_label(e) for e in entries if "fuzzy" in e["flags"] or not all(s.strip() for s in e["msgstr"])]
    assert not missing, f"messages of the code without a zh_Hans translation: {missing}"
