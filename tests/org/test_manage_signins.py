"""The console's sign-in attempts (/manage/sign-ins/): failed sign-ins, pauses, lifting one early."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessLog
from django.test import Client
from django.utils import timezone

from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

PAGE = "/manage/sign-ins/"
UNLOCK = "/manage/sign-ins/unlock/"


def _login(client: Client, username: str, password: str):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _fail(username: str, times: int, address: str = "127.0.0.1") -> None:
    client = Client(REMOTE_ADDR=address)
    for _ in range(times):
        _login(client, username, "wrong-password")


@pytest.fixture
def admin(people, client_for):
    return client_for(people["admin"])


@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "hr_head", "auditor"])
def test_others_get_404(people, client_for, who):
    _fail("tax_member", 5)
    client = client_for(people[who])
    assert client.get(PAGE).status_code == 404
    assert client.post(UNLOCK, {"username": "tax_member"}).status_code == 404
    assert AccessAttempt.objects.filter(username="tax_member").exists()
    assert Client().get(PAGE).status_code == 302


def test_unlock_clears_the_pause_so_the_person_signs_in(admin, people):
    _fail("tax_member", 5)
    assert _login(Client(), "tax_member", factories.PASSWORD).status_code == 429
    response = admin.get(PAGE)
    assert response.status_code == 200
    [row] = response.context["rows"]
    assert row.attempt.username == "tax_member" and row.attempt.failures_since_start >= 5
    assert row.locked and row.by_username.locked and row.until > timezone.now()
    assert row.person is not None and row.person.username == "tax_member"
    html = response.content.decode()
    assert "paused until" in html and "127.0.0.1" in html and 'name="username" value="tax_member"' in html

    response = admin.post(UNLOCK, {"username": "tax_member"})
    assert response.status_code == 302 and response["Location"] == PAGE
    assert not AccessAttempt.objects.filter(username="tax_member").exists()
    event = Event.objects.get(action="auth.unlocked")
    assert event.actor == people["admin"] and event.details == {"username": "tax_member"}
    assert _login(Client(), "tax_member", factories.PASSWORD).status_code == 302
    # The successful sign-in is listed.
    recent = admin.get(PAGE).context["recent"]
    assert [s.username for s in recent][:1] == ["tax_member"]


def test_not_yet_paused_and_expired_attempts_read_so(admin):
    _fail("tax_steward", 2)
    _fail("ghost", 5, address="10.0.0.9")
    AccessAttempt.objects.filter(username="ghost").update(attempt_time=timezone.now() - timedelta(hours=1))
    rows = {r.attempt.username: r for r in admin.get(PAGE).context["rows"]}
    assert not rows["tax_steward"].locked and rows["tax_steward"].by_username.failures == 2
    assert not rows["ghost"].locked  # the cool-off has passed
    assert rows["ghost"].person is None  # nobody of that name


def test_filters(admin):
    _fail("tax_member", 5)
    _fail("tax_steward", 1, address="10.0.0.2")
    locked = admin.get(PAGE, {"locked": "1"}).context["rows"]
    assert [r.attempt.username for r in locked] == ["tax_member"]
    by_name = admin.get(PAGE, {"username": "stew"}).context["rows"]
    assert [r.attempt.username for r in by_name] == ["tax_steward"]
    assert admin.get(PAGE, {"username": "a\x00b", "locked": "x", "page": "zz"}).status_code == 200


def test_a_paused_address_shows_on_each_of_its_rows(admin):
    for name in ("a1", "a2", "a3", "a4", "a5"):
        _fail(name, 1, address="10.9.9.9")
    rows = admin.get(PAGE, {"locked": "1"}).context["rows"]
    assert len(rows) == 5 and all(r.locked and r.by_address.locked and not r.by_username.locked for r in rows)


@pytest.mark.parametrize("data", [{}, {"username": ""}, {"username": "x" * 300}, {"username": "a\x00b"}])
def test_bad_unlock_is_422_naming_the_field(admin, data):
    _fail("tax_member", 5)
    response = admin.post(UNLOCK, data)
    assert response.status_code == 422
    assert "username" in response.context["unlock_errors"]
    assert AccessAttempt.objects.filter(username="tax_member").exists()
    assert not Event.objects.filter(action="auth.unlocked").exists()


def test_unlocking_a_name_without_attempts_records_nothing(admin):
    response = admin.post(UNLOCK, {"username": "nobody"}, follow=True)
    assert response.status_code == 200
    assert "No failed sign-ins are counted for nobody" in response.content.decode()
    assert not Event.objects.filter(action="auth.unlocked").exists()


def test_page_runs_a_constant_number_of_statements(admin, django_assert_max_num_queries):
    def attempts(first: int, count: int) -> None:
        now = timezone.now()
        AccessAttempt.objects.bulk_create(
            AccessAttempt(
                username=f"user{n}",
                ip_address=f"10.1.{n // 250}.{n % 250}",
                user_agent="test",
                http_accept="*/*",
                path_info="/accounts/login/",
                get_data="",
                post_data="",
                failures_since_start=1 + n % 6,
                attempt_time=now,
            )
            for n in range(first, first + count)
        )
        AccessLog.objects.bulk_create(
            AccessLog(username=f"user{n}", ip_address="10.0.0.1", user_agent="t", http_accept="*/*", path_info="/")
            for n in range(first, first + count)
        )

    attempts(0, 1)
    with django_assert_max_num_queries(14) as one:
        assert admin.get(PAGE).status_code == 200
    attempts(1, 80)
    with django_assert_max_num_queries(14) as many:
        response = admin.get(PAGE)
    assert len(response.context["rows"]) == 50
    # The pin: session, user, navigation, the page of attempts (count, rows), their pauses by username and by
    # address, the people they name, the latest sign-ins. Read the statements before moving it.
    assert len(many.captured_queries) == len(one.captured_queries) == 12
