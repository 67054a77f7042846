"""OpenID Connect sign-in against a real provider process (npm's oidc-provider): the code flow with PKCE
through HTTP, the person made with the mapping rules from the groups claim, bad state / nonce / verifier
refused, sign-out at the provider, the provider down."""

from __future__ import annotations

import os
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse

from sharehub.directory import oidc
from sharehub.directory.conf import OidcSettings
from sharehub.directory.models import DirectoryAccount
from sharehub.events.models import Event
from sharehub.org.models import Membership, User
from tests.directory import provider as oidc_provider

pytestmark = pytest.mark.django_db
LABEL = "统一身份认证"
CALLBACK = "http://testserver/accounts/oidc/callback/"
AFTER_LOGOUT = "http://testserver/accounts/login/"


@pytest.fixture
def provider(tmp_path):
    why = oidc_provider.available()
    if why:
        if os.environ.get("CI"):
            pytest.fail(f"the OpenID Connect tests cannot run: {why}", pytrace=False)
        pytest.skip(why)
    process = oidc_provider.Provider(tmp_path / "oidc", [CALLBACK], [AFTER_LOGOUT]).start()
    yield process
    process.stop()


def oidc_settings(issuer: str) -> OidcSettings:
    return OidcSettings(
        issuer=issuer,
        client_id=oidc_provider.CLIENT_ID,
        client_secret=oidc_provider.CLIENT_SECRET,
        scopes="openid profile email groups",
        label=LABEL,
    )


@pytest.fixture
def oidc_on(settings, provider):
    settings.DIRECTORY_OIDC = oidc_settings(provider.issuer)
    return provider


@pytest.fixture
def group_rules(departments):
    from sharehub.directory import services

    services.create_rule(None, kind="group", value="tax-stewards", department=departments["tax"], role="steward")
    services.create_rule(
        None, kind="attribute", attribute="department", value="卫生健康委员会", department=departments["health"]
    )


def start(client: Client, next_url: str = "") -> tuple[str, dict]:
    response = client.get(reverse("directory:oidc_login") + (f"?next={next_url}" if next_url else ""))
    assert response.status_code == 302
    location = response["Location"]
    return location, {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def callback_path(url: str) -> str:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == CALLBACK
    return f"{parts.path}?{parts.query}"


def test_login_page_offers_the_provider_beside_the_password_form(oidc_on):
    html = Client().get(reverse("login")).content.decode()
    assert f"Sign in with {LABEL}" in html
    assert 'name="password"' in html
    assert reverse("directory:oidc_login") in html


def test_login_page_without_oidc_has_no_button():
    assert "Sign in with" not in Client().get(reverse("login")).content.decode()


def test_code_flow_with_pkce_makes_the_person_with_rules_from_the_groups_claim(oidc_on, group_rules):
    client = Client()
    authorize, params = start(client, next_url="/directory/rules/")
    assert authorize.startswith(oidc_on.issuer + "/auth?")
    assert params["response_type"] == "code" and params["client_id"] == oidc_provider.CLIENT_ID
    assert params["code_challenge_method"] == "S256" and len(params["code_challenge"]) == 43
    assert params["state"] and params["nonce"] and params["redirect_uri"] == CALLBACK
    back = oidc_provider.sign_in_at_provider(authorize, "wang.fang")
    response = client.get(callback_path(back))
    assert response.status_code == 302 and response["Location"] == "/directory/rules/"
    user = User.objects.get(username="wang.fang")
    assert user.display_name == "王芳" and user.email == "wang.fang@example.org"
    assert {m.department.code: m.role for m in Membership.objects.filter(user=user)} == {"TAX": "steward"}
    account = DirectoryAccount.objects.get(user=user)
    assert account.source == "oidc" and account.external_id == "wang.fang"
    assert set(account.groups) == {"tax-stewards", "staff"}
    assert client.get(reverse("home")).status_code == 200  # signed in
    assert client.session[oidc.ID_TOKEN_KEY]
    assert Event.objects.filter(action="person.created", target_id=str(user.pk)).exists()

    other = Client()
    authorize, _params = start(other)
    other.get(callback_path(oidc_provider.sign_in_at_provider(authorize, "li.lei")))
    li = User.objects.get(username="li.lei")
    assert {m.department.code: m.role for m in Membership.objects.filter(user=li)} == {"HEALTH": "member"}

    # the second sign-in finds the same person
    again = Client()
    authorize, _params = start(again)
    assert again.get(callback_path(oidc_provider.sign_in_at_provider(authorize, "wang.fang"))).status_code == 302
    assert User.objects.filter(username="wang.fang").count() == 1


def _refused(client: Client, path: str) -> str:
    response = client.get(path, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("login")
    assert client.get(reverse("home")).status_code == 302  # not signed in
    return response.content.decode()


def test_a_wrong_state_is_refused(oidc_on, group_rules):
    client = Client()
    authorize, _params = start(client)
    path = callback_path(oidc_provider.sign_in_at_provider(authorize, "wang.fang"))
    forged = path.replace("state=", "state=x")
    assert "did not succeed" in _refused(client, forged)
    # nor does the right callback work in another browser (its session never began the flow)
    assert "did not succeed" in _refused(Client(), path)
    assert not User.objects.filter(username="wang.fang").exists()


def _tamper(client: Client, state: str, **changes) -> None:
    session = client.session
    key = f"_state_sharehub_{state}"
    stored = session[key]
    stored["data"].update(changes)
    session[key] = stored
    session.save()


def test_a_wrong_nonce_is_refused(oidc_on, group_rules):
    client = Client()
    authorize, params = start(client)
    path = callback_path(oidc_provider.sign_in_at_provider(authorize, "wang.fang"))
    _tamper(client, params["state"], nonce="not-the-nonce-sent")  # the ID token carries the one sent
    assert "did not succeed" in _refused(client, path)
    assert not User.objects.filter(username="wang.fang").exists()


def test_a_wrong_pkce_verifier_is_refused_by_the_provider(oidc_on, group_rules):
    client = Client()
    authorize, params = start(client)
    path = callback_path(oidc_provider.sign_in_at_provider(authorize, "wang.fang"))
    _tamper(client, params["state"], code_verifier="x" * 64)
    assert "did not succeed" in _refused(client, path)
    assert not User.objects.filter(username="wang.fang").exists()


def test_sign_out_ends_the_session_here_and_at_the_provider(oidc_on, group_rules):
    client = Client()
    authorize, _params = start(client)
    client.get(callback_path(oidc_provider.sign_in_at_provider(authorize, "wang.fang")))
    id_token = client.session[oidc.ID_TOKEN_KEY]
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert f"{location.scheme}://{location.netloc}" == oidc_on.issuer
    query = parse_qs(location.query)
    assert query["id_token_hint"] == [id_token] and query["post_logout_redirect_uri"] == [AFTER_LOGOUT]
    assert client.get(reverse("home")).status_code == 302
    assert Event.objects.filter(action="auth.logout").exists()


def test_a_local_session_signs_out_locally(oidc_on, client_for, people):
    response = client_for(people["tax_member"]).post(reverse("logout"))
    assert response.status_code == 302 and response["Location"] == reverse("login")


def test_provider_down_is_a_clear_message(settings):
    settings.DIRECTORY_OIDC = oidc_settings("http://127.0.0.1:9")  # nothing listens on the discard port
    response = Client().get(reverse("directory:oidc_login"), follow=True)
    assert response.status_code == 200
    assert f"{LABEL} cannot be reached just now" in response.content.decode()


def test_oidc_pages_are_not_found_without_oidc():
    assert Client().get(reverse("directory:oidc_login")).status_code == 404
    assert Client().get(reverse("directory:oidc_callback")).status_code == 404
