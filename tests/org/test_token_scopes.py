"""API tokens with scopes and an end: what a token may reach, why a refused one gets 401, the owner told a
week before it ends, admins seeing and revoking every token, in the pages and the CLI."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sharehub.errors import Invalid
from sharehub.events.models import Event
from sharehub.feeds.models import Notification
from sharehub.org import scopes
from sharehub.org import services as org
from sharehub.org.models import ApiToken
from tests import factories

pytestmark = pytest.mark.django_db


def call(raw: str, method: str, path: str, body=None):
    client = Client()
    send = getattr(client, method)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {raw}"}
    if body is not None:
        kwargs.update(data=body, content_type="application/json")
    return send(f"/api/v1{path}", **kwargs)


def error(response) -> dict:
    return response.json()["error"]


@pytest.fixture
def member(people):
    return people["tax_member"]


@pytest.fixture
def dataset(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], kind="dataset", title="登记信息")


def test_a_read_token_reads_everywhere_and_writes_nowhere(member, org_units):
    _token, raw = org.issue_token(member, member, "报表", scopes=["read"])
    assert call(raw, "get", "/me").status_code == 200
    assert call(raw, "get", "/resources").status_code == 200
    refused = call(
        raw, "post", "/resources", {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "新资源"}
    )
    assert refused.status_code == 403, refused.content
    assert "read everything" in error(refused)["message"] and "catalog" in error(refused)["message"]
    assert error(refused)["fields"] == {"scopes": "read"}


def test_an_area_scope_reaches_that_area_only(member, org_units, dataset):
    _token, raw = org.issue_token(member, member, "目录同步", scopes=["catalog:write"])
    made = call(
        raw, "post", "/resources", {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "由脚本写入"}
    )
    assert made.status_code == 201, made.content
    assert call(raw, "get", f"/resources/{made.json()['code']}").status_code == 200  # writing includes reading
    assert call(raw, "get", f"/datasets/{dataset.pk}").status_code == 403
    assert call(raw, "get", "/search", None).status_code == 403
    _token, reader = org.issue_token(member, member, "只读数据", scopes=["exchange:read", "search:read"])
    assert call(reader, "get", f"/datasets/{dataset.pk}").status_code == 200
    assert call(reader, "get", "/search?q=登记").status_code == 200
    assert call(reader, "get", "/resources").status_code == 403


def test_a_scope_never_widens_what_the_owner_may(people, org_units):
    outsider = people["health_member"]
    _token, raw = org.issue_token(outsider, outsider, "全部", scopes=["write"])
    refused = call(
        raw, "post", "/resources", {"owner_department": org_units["tax"].pk, "kind": "notice", "title": "越权"}
    )
    assert refused.status_code in (403, 422), refused.content  # the policy still decides


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda token: ApiToken.objects.filter(pk=token.pk).update(revoked_at=timezone.now()), "revoked"),
        (lambda token: ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now()), "expired"),
        (lambda token: type(token.user).objects.filter(pk=token.user_id).update(is_active=False), "deactivated"),
    ],
)
def test_each_use_of_a_refused_token_gets_401_naming_why(member, change, words):
    token, raw = org.issue_token(member, member, "脚本")
    assert call(raw, "get", "/me").status_code == 200
    change(token)
    for _attempt in range(2):
        answer = call(raw, "get", "/me")
        assert answer.status_code == 401 and error(answer)["code"] == "token_refused"
        assert words in error(answer)["message"], error(answer)


def test_unknown_and_foreign_tokens_get_401_saying_so():
    assert "not known" in error(call("shr_" + "x" * 43, "get", "/me"))["message"]
    assert "not a Sharehub token" in error(call("ghp_abc", "get", "/me"))["message"]


def test_tokens_end_after_the_sites_days_and_never_later_than_its_longest(member, settings):
    settings.TOKEN_DAYS, settings.TOKEN_MAX_DAYS = 90, 180
    token, _raw = org.issue_token(member, member, "默认")
    assert timedelta(days=89, hours=23) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert token.scopes == ["write"]
    token, _raw = org.issue_token(member, member, "短期", days="7")
    assert token.expires_at - timezone.now() <= timedelta(days=7)
    for days in ("0", "181", "-3", "七", "1e3"):
        with pytest.raises(Invalid) as refused:
            org.issue_token(member, member, "x", days=days)
        assert "180" in refused.value.fields["days"]


@pytest.mark.parametrize("asked", [[], ["admin"], ["catalog:delete"], ["read", "bogus:read"], "   "])
def test_unknown_or_missing_scopes_are_refused_naming_the_field(member, asked):
    with pytest.raises(Invalid) as refused:
        org.issue_token(member, member, "x", scopes=asked)
    assert "scopes" in refused.value.fields


def test_scopes_are_kept_in_their_narrowest_stable_form():
    assert scopes.clean(["catalog:read", "catalog:write", "read"]) == ["read", "catalog:write"]
    assert scopes.clean("write catalog:write, read") == ["write"]
    assert scopes.clean(["SEARCH:READ"]) == ["search:read"]


def test_the_owner_is_told_once_a_week_before_a_token_ends(member, people, org_units):
    token, _raw = org.issue_token(member, member, "周报脚本", days="30")
    later, _raw = org.issue_token(member, member, "另一个", days="60")
    assert org.announce_expiring_tokens() == 0
    in_24_days = timezone.now() + timedelta(days=24)
    assert org.announce_expiring_tokens(now=in_24_days) == 1
    assert org.announce_expiring_tokens(now=in_24_days + timedelta(hours=1)) == 0
    event = Event.objects.get(action="token.expiring")
    assert event.details["token"] == token.pk and event.details["recipients"] == [member.pk]
    service = org.create_service_account(None, department=org_units["tax"], username="erp-sync")
    org.issue_token(None, service, "ERP", days="3")
    assert org.announce_expiring_tokens() == 1
    told = Event.objects.filter(action="token.expiring").order_by("-seq").first()
    assert told.details["recipients"] == [people["tax_steward"].pk] and told.details["owner_is_service"]
    ApiToken.objects.filter(pk=later.pk).update(revoked_at=timezone.now())
    assert org.announce_expiring_tokens(now=timezone.now() + timedelta(days=58)) == 0  # revoked: nothing to say


@pytest.mark.django_db(transaction=True)
def test_the_expiry_notice_reaches_the_notifications(member):
    org.issue_token(member, member, "周报脚本", days="5")
    org.announce_expiring_tokens()
    from sharehub.events import consumers

    consumers.run_pending()
    notice = Notification.objects.get(recipient=member)
    page = Client()
    page.force_login(member)
    listing = page.get(reverse("feeds:list")).content.decode()
    assert notice.event.action == "token.expiring" and "周报脚本" in listing and "make a new one" in listing
    assert reverse("org:tokens") in listing


def test_the_tokens_page_makes_a_scoped_token_and_shows_its_reach(client_for, member):
    page = client_for(member)
    shown = page.get(reverse("org:tokens")).content.decode()
    assert re.search(r'name="scopes" value="read" id="[^"]+" checked', shown) and "All API tokens" not in shown
    made = page.post(reverse("org:tokens"), {"name": "看板", "scopes": ["catalog:read", "search:read"], "days": "30"})
    body = made.content.decode()
    assert made.status_code == 200 and 'id="token-secret"' in body and "read search" in body
    token = ApiToken.objects.get(name="看板")
    assert token.scopes == ["catalog:read", "search:read"]
    bad = page.post(reverse("org:tokens"), {"name": "坏", "days": "9999"})
    assert bad.status_code == 422 and "Choose at least one scope" in bad.content.decode()
    chinese = client_for(member)
    chinese.cookies["django_language"] = "zh-hans"
    assert "可以做什么" in chinese.get(reverse("org:tokens")).content.decode()


def test_admins_see_every_token_and_revoke_any(client_for, people, member, org_units):
    token, raw = org.issue_token(member, member, "别人的脚本")
    service = org.create_service_account(None, department=org_units["tax"], username="erp-sync")
    admin = client_for(people["admin"])
    listing = admin.get(reverse("org:all_tokens")).content.decode()
    assert "别人的脚本" in listing and "erp-sync" in listing
    assert (
        "别人的脚本" in admin.get(reverse("org:all_tokens"), {"state": "active", "owner": "tax_mem"}).content.decode()
    )
    assert "别人的脚本" not in admin.get(reverse("org:all_tokens"), {"state": "revoked"}).content.decode()
    made = admin.post(
        reverse("org:all_tokens"), {"account": service.pk, "name": "ERP", "scopes": ["exchange:write"], "days": "30"}
    )
    assert made.status_code == 200 and 'id="token-secret"' in made.content.decode()
    assert ApiToken.objects.get(user=service).scopes == ["exchange:write"]
    assert admin.post(reverse("org:all_tokens"), {"name": "x", "scopes": ["read"]}).status_code == 422
    admin.post(reverse("org:any_token_revoke", args=[token.pk]))
    assert error(call(raw, "get", "/me"))["code"] == "token_refused"
    assert Event.objects.filter(action="token.revoked", actor=people["admin"]).exists()
    for path in (reverse("org:all_tokens"), reverse("org:any_token_revoke", args=[token.pk])):
        answer = client_for(member).post(path) if "revoke" in path else client_for(member).get(path)
        assert answer.status_code == 404


@pytest.mark.django_db(transaction=True)
def test_the_live_stream_needs_the_notifications_read_scope(member):
    from concurrent.futures import ThreadPoolExecutor

    from sharehub.feeds.live import _user_of

    def user_of(raw):  # as the stream does: on a thread of its own, which closes its connection after
        scope = {"headers": [(b"authorization", f"Bearer {raw}".encode())]}
        with ThreadPoolExecutor(1) as pool:
            return pool.submit(_user_of, scope).result()

    _token, allowed = org.issue_token(member, member, "通知", scopes=["notifications:read"])
    _token, other = org.issue_token(member, member, "目录", scopes=["catalog:write"])
    assert user_of(allowed) == member
    assert user_of(other) is None


def test_the_cli_makes_lists_and_refuses_with_a_sentence(member, capsys):
    call_command("token", "create", member.username, "--name", "夜间导出", "--scope", "exchange:read", "--days", "10")
    out = capsys.readouterr().out
    assert "scopes exchange:read" in out and out.strip().splitlines()[-1].startswith("shr_")
    call_command("token", "list", member.username)
    listed = capsys.readouterr().out
    assert "exchange:read" in listed and "ends" in listed
    with pytest.raises(CommandError, match="scopes: Unknown scope"):
        call_command("token", "create", member.username, "--scope", "everything")
    with pytest.raises(CommandError, match="days"):
        call_command("token", "create", member.username, "--days", "0")
