"""API rate limits (issue 10, 1.5): per token or signed-in person, per address for callers that are not
signed in; 429 in the one error shape with Retry-After; counted in the shared cache."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache

from sharehub import config, throttling
from sharehub.org import services as org
from tests.api.conftest import API, Api, error_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def low_limits(settings):
    settings.API_RATE_TOKEN = (3, 60)
    settings.API_RATE_ADDRESS = (2, 60)


def _token(user, name: str = "script") -> str:
    _token_row, secret = org.issue_token(user, user, name)
    return secret


def _assert_rate_limited(response) -> None:
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_a_token_over_its_limit_gets_429_with_retry_after(people, low_limits):
    caller = Api(token=_token(people["tax_member"]))
    for _ in range(3):
        assert caller.get("/me").status_code == 200
    _assert_rate_limited(caller.get("/me"))
    _assert_rate_limited(caller.post("/search/saved", {"name": "x", "query": "y"}))


def test_the_answer_is_in_the_callers_language(people, low_limits, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    caller = Api(user=people["tax_member"])
    for _ in range(3):
        caller.get("/me")
    response = caller.client.get(API + "/me", HTTP_ACCEPT_LANGUAGE="zh-CN")
    _assert_rate_limited(response)
    assert response.json()["error"]["message"].startswith("请求过于频繁")


def test_the_limit_is_per_token(people, low_limits):
    user = people["tax_member"]
    first, second = Api(token=_token(user, "one")), Api(token=_token(user, "two"))
    for _ in range(3):
        assert first.get("/me").status_code == 200
    _assert_rate_limited(first.get("/me"))
    assert second.get("/me").status_code == 200
    assert Api(token=_token(people["tax_steward"])).get("/me").status_code == 200


def test_a_browser_session_is_limited_per_person(people, low_limits):
    session = Api(user=people["tax_member"])
    for _ in range(3):
        assert session.get("/me").status_code == 200
    _assert_rate_limited(session.get("/me"))
    assert Api(user=people["tax_steward"]).get("/me").status_code == 200


def test_unauthenticated_requests_are_limited_per_address(people, low_limits):
    """Token guessing from one address runs into the address limit; signed-in callers from that address
    (an office behind NAT) keep their own allowance."""
    guesser = Api(token="shr_guess")
    for _ in range(2):
        assert guesser.get("/me").status_code == 401
    _assert_rate_limited(guesser.get("/me"))
    _assert_rate_limited(Api().get("/resources"))
    assert Api(token=_token(people["tax_member"])).get("/me").status_code == 200
    elsewhere = Api(token="shr_guess")
    assert elsewhere.client.get(API + "/me", REMOTE_ADDR="192.0.2.8", **elsewhere.headers).status_code == 401


def test_the_address_limit_uses_the_decided_client_address(people, low_limits):
    """X-Forwarded-For from an untrusted peer changes nothing."""
    anonymous = Api()
    for n in range(2):
        assert anonymous.client.get(API + "/me", HTTP_X_FORWARDED_FOR=f"203.0.113.{n}").status_code == 401
    _assert_rate_limited(anonymous.client.get(API + "/me", HTTP_X_FORWARDED_FOR="203.0.113.77"))


def test_limits_can_be_turned_off(people, settings):
    settings.API_RATE_TOKEN = None
    settings.API_RATE_ADDRESS = None
    caller, anonymous = Api(user=people["tax_member"]), Api()
    for _ in range(30):
        assert caller.get("/me").status_code == 200
        assert anonymous.get("/me").status_code == 401


def test_the_counter_lives_in_the_shared_cache(people, low_limits):
    caller = Api(user=people["tax_member"])
    for _ in range(3):
        caller.get("/me")
    assert caller.get("/me").status_code == 429
    cache.clear()  # what another worker sees is the cache: clearing it is a fresh start everywhere
    assert caller.get("/me").status_code == 200


def test_a_window_ends_and_the_wait_says_when():
    rate = (2, 60)
    start = 6_000_000.0  # the beginning of a window of 60 s
    assert throttling.hit("k", rate, now=start) is None
    assert throttling.hit("k", rate, now=start + 1) is None
    assert throttling.hit("k", rate, now=start + 20) == 40
    assert throttling.hit("k", rate, now=start + 59.5) == 1
    assert throttling.hit("k", rate, now=start + 60) is None


def test_concurrent_requests_are_all_counted():
    """Read-modify-write would lose counts between workers; the counter's increment does not."""
    rate = (10_000, 3600)
    now = 7_200_000.0

    def hammer():
        for _ in range(50):
            throttling.hit("busy", rate, now=now)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert cache.get("sharehub:rate:busy:3600:2000") == 400


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("600/min", (600, 60)), ("10/s", (10, 1)), ("5000/hour", (5000, 3600)), ("off", None), ("", (1200, 60))],
)
def test_rate_settings(monkeypatch, raw, expected):
    monkeypatch.setenv("SHAREHUB_API_RATE_TOKEN", raw)
    assert config.env_rate("SHAREHUB_API_RATE_TOKEN", "1200/min") == expected


@pytest.mark.parametrize("raw", ["600", "600/week", "-1/min", "lots/min", "²/min"])
def test_bad_rate_settings_name_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SHAREHUB_API_RATE_TOKEN", raw)
    with pytest.raises(config.ConfigError, match="SHAREHUB_API_RATE_TOKEN"):
        config.env_rate("SHAREHUB_API_RATE_TOKEN", "1200/min")
