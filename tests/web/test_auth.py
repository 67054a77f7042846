"""Sign-in, throttling, sign-out, password change and the language switch."""

from __future__ import annotations

import pytest
from django.test import Client

from sharehub.events.models import Event
from tests import factories

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"


def _login(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


def test_login_page_renders_for_anonymous():
    response = Client().get(LOGIN)
    assert response.status_code == 200
    assert b"Sharehub" in response.content
    assert b'name="password"' in response.content
    assert b"sh-auth" in response.content


def test_home_requires_login():
    response = Client().get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_login_success_redirects_home_and_records_event(people):
    client = Client()
    response = _login(client, "tax_member", factories.PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get("/").status_code == 200
    assert Event.objects.filter(action="auth.login", actor=people["tax_member"]).exists()


def test_login_failure_shows_form_again(people):
    client = Client()
    response = _login(client, "tax_member", "wrong-password")
    assert response.status_code == 200
    assert b"is-invalid" in response.content or b"alert-danger" in response.content
    assert client.get("/").status_code == 302
    assert Event.objects.filter(action="auth.login_failed", target_label="tax_member").exists()


def test_five_failures_lock_the_account_even_for_the_right_password(people):
    client = Client()
    for _ in range(4):
        assert _login(client, "tax_member", "wrong-password").status_code == 200
    locked = _login(client, "tax_member", "wrong-password")
    assert locked.status_code == 429
    assert b"15" in locked.content
    right = _login(client, "tax_member", factories.PASSWORD)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    # The address is paused too (for any username); another address is not.
    assert _login(Client(), "tax_steward", factories.PASSWORD).status_code == 429
    other_address = Client(REMOTE_ADDR="192.0.2.44")
    assert _login(other_address, "tax_steward", factories.PASSWORD).status_code == 302


def test_logout_is_a_post(people, client_for):
    client = client_for(people["tax_member"])
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert client.get("/").status_code == 302
    assert Event.objects.filter(action="auth.logout", actor=people["tax_member"]).exists()


def test_password_change_goes_through_the_service(people):
    user = people["tax_member"]
    client = Client()
    _login(client, "tax_member", factories.PASSWORD)
    page = client.get("/accounts/password/")
    assert page.status_code == 200
    assert "web/password_change_form.html" in [t.name for t in page.templates]
    assert b"sh-auth" in page.content  # our layout, not the admin's template of the same name
    response = client.post(
        "/accounts/password/",
        {
            "old_password": factories.PASSWORD,
            "new_password1": "a-new-long-secret-42",
            "new_password2": "a-new-long-secret-42",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/password/done/"
    user.refresh_from_db()
    assert user.check_password("a-new-long-secret-42")
    assert Event.objects.filter(action="person.password_changed", actor=user).count() == 1
    # Still signed in on this browser.
    assert client.get("/accounts/password/done/").status_code == 200


def test_password_change_wrong_old_password_changes_nothing(people, client_for):
    user = people["tax_member"]
    client = client_for(user)
    response = client.post(
        "/accounts/password/",
        {"old_password": "nope", "new_password1": "a-new-long-secret-42", "new_password2": "a-new-long-secret-42"},
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert user.check_password(factories.PASSWORD)
    assert not Event.objects.filter(action="person.password_changed").exists()


def test_language_switch_to_english(people, client_for, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the shipped default
    client = client_for(people["tax_member"])
    assert b'lang="zh-hans"' in client.get("/").content
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    page = client.get("/")
    assert b'lang="en"' in page.content
    assert b"What changed recently" in page.content
    assert b"My departments and roles" in page.content


def test_error_pages_render():
    from django.test import RequestFactory

    from sharehub.web import views

    request = RequestFactory().get("/x")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    assert views.permission_denied(request).status_code == 403
    assert views.not_found(request).status_code == 404
    assert views.server_error(request).status_code == 500


def test_unknown_page_is_404(people, client_for):
    assert client_for(people["tax_member"]).get("/no-such-page/").status_code == 404


def test_an_admin_lifts_a_sign_in_pause_early(people, client_for):
    client = Client()
    for _ in range(5):
        _login(client, "tax_member", "wrong-password")
    assert _login(client, "tax_member", factories.PASSWORD).status_code == 429

    from axes.models import AccessAttempt

    from sharehub.org.services import set_superuser

    admin_client = client_for(set_superuser(None, people["admin"], True))  # Django's admin is for superusers
    listing = admin_client.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200
    assert b"tax_member" in listing.content
    attempt_ids = [str(pk) for pk in AccessAttempt.objects.filter(username="tax_member").values_list("pk", flat=True)]
    response = admin_client.post(
        "/admin/axes/accessattempt/", {"action": "unlock", "_selected_action": attempt_ids}, follow=True
    )
    assert response.status_code == 200
    assert not AccessAttempt.objects.filter(username="tax_member").exists()
    assert Event.objects.filter(action="auth.unlocked", actor=people["admin"], target_label="tax_member").exists()
    assert _login(Client(), "tax_member", factories.PASSWORD).status_code == 302


def test_a_member_cannot_unlock_anyone(people, client_for):
    from sharehub.errors import Forbidden
    from sharehub.org import services

    with pytest.raises(Forbidden):
        services.unlock_sign_in(people["tax_member"], "tax_steward")
    assert client_for(people["tax_member"]).get("/admin/axes/accessattempt/").status_code == 302
