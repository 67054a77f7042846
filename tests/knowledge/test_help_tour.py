"""The first-run tour: which tour a person is shown on the home page, the "seen" endpoint (CSRF, validation,
repeat), restarting it, and what it costs the home page."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from sharehub.knowledge import help_pages
from sharehub.knowledge.models import TourSeen

pytestmark = pytest.mark.django_db
SEEN_URL = "/help/tour/seen/"


def _tour(client: Client, url: str = "/", language: str = "en") -> dict | None:
    client.cookies["django_language"] = language
    html = client.get(url, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    found = re.search(r'<script id="sh-tour-data" type="application/json">(.*?)</script>', html, re.DOTALL)
    return json.loads(found.group(1)) if found else None


@pytest.mark.parametrize(
    ("who", "role", "first_target"),
    [
        ("tax_member", "member", '#mainnav a.nav-link[href="/resources/"]'),
        ("tax_steward", "steward", "main a.btn[href="),
        ("hr_head", "head", '#mainnav a.nav-link[href="/requests/inbox/"]'),
        ("admin", "admin", "#sh-user-menu"),
        ("auditor", "auditor", '#mainnav a.nav-link[href="/audit/"]'),
    ],
)
def test_each_role_gets_its_own_tour_on_the_home_page(who, role, first_target, people, client_for):
    tour = _tour(client_for(people[who]))
    assert tour is not None and tour["role"] == role
    assert tour["seen_url"] == SEEN_URL
    assert tour["steps"][0]["target"] == ".navbar-brand"
    assert tour["steps"][1]["target"].startswith(first_target)
    assert all(step["title"] and step["text"] for step in tour["steps"])


def test_the_tours_differ_by_role(people, client_for):
    steps = {who: [s["target"] for s in _tour(client_for(people[who]))["steps"]] for who in ("tax_member", "hr_head")}
    assert steps["tax_member"] != steps["hr_head"]
    assert any("/requests/inbox/" in target for target in steps["hr_head"])
    assert not any("/requests/inbox/" in target for target in steps["tax_member"])


def test_the_tour_is_in_the_readers_language(people, client_for):
    tour = _tour(client_for(people["tax_member"]), language="zh-hans")
    assert tour["steps"][0]["title"] == "欢迎使用 Sharehub"
    assert tour["labels"]["skip"] == "跳过引导"
    assert tour["labels"]["next"] != "Next"


def test_someone_with_several_roles_gets_the_highest_and_may_choose_another(people, client_for):
    head = people["hr_head"]
    head.is_auditor = True
    head.save(update_fields=["is_auditor"])
    client = client_for(head)
    assert help_pages.tour_roles(head)[:2] == ["auditor", "head"]
    assert _tour(client)["role"] == "auditor"
    assert _tour(client, "/?tour=head")["role"] == "head"
    assert _tour(client, "/?tour=admin")["role"] == "auditor"  # a role they do not hold: their highest


def test_the_tour_is_only_on_the_home_page(people, client_for):
    assert _tour(client_for(people["tax_member"]), "/resources/") is None


def test_dismissing_the_tour_keeps_it_away_until_asked_again(people, client_for):
    client = client_for(people["tax_member"])
    assert client.post(SEEN_URL, {"role": "member"}).status_code == 204
    assert TourSeen.objects.filter(user=people["tax_member"], role="member").count() == 1
    assert _tour(client) is None
    assert _tour(client, "/?tour=again")["role"] == "member"
    assert client.post(SEEN_URL, {"role": "member"}).status_code == 204  # again: still one row
    assert TourSeen.objects.filter(user=people["tax_member"]).count() == 1
    assert _tour(client_for(people["health_member"]))["role"] == "member"  # someone else still sees theirs


def test_the_help_page_and_user_menu_restart_the_tour(people, client_for):
    client = client_for(people["hr_head"])
    client.post(SEEN_URL, {"role": "head"})
    help_html = client.get("/help/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/?tour=head"' in help_html and "Show the tour again" in help_html
    assert 'href="/?tour=admin"' not in help_html  # only the roles held are offered
    assert 'href="/?tour=member"' in help_html
    home = client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'href="/?tour=again"' in home


@pytest.mark.parametrize("role", ["", "root", "ADMIN", "member\x00", "x" * 100])
def test_a_bad_role_is_422_naming_the_field(role, people, client_for):
    answer = client_for(people["tax_member"]).post(SEEN_URL, {"role": role})
    assert answer.status_code == 422
    assert "role" in answer.json()["error"]["fields"]
    assert not TourSeen.objects.exists()


def test_marking_the_tour_seen_needs_csrf_and_a_signed_in_person(people):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(people["tax_member"])
    assert strict.post(SEEN_URL, {"role": "member"}).status_code == 403
    strict.get("/")  # sets the CSRF cookie
    token = strict.cookies["csrftoken"].value
    assert strict.post(SEEN_URL, {"role": "member"}, HTTP_X_CSRFTOKEN=token).status_code == 204
    anonymous = Client()
    assert anonymous.post(SEEN_URL, {"role": "member"}).status_code == 302
    assert anonymous.get(SEEN_URL).status_code in (302, 405)
    assert TourSeen.objects.count() == 1


def test_the_tour_costs_the_home_page_one_statement(people, client_for):
    client = client_for(people["tax_member"])
    client.get("/")
    with CaptureQueriesContext(connection) as shown:
        client.get("/")
    client.post(SEEN_URL, {"role": "member"})
    with CaptureQueriesContext(connection) as hidden:
        client.get("/")
    assert len(shown) == len(hidden)  # the same "seen?" statement, whatever its answer
    assert sum("knowledge_tourseen" in q["sql"] for q in shown.captured_queries) == 1
