"""Email of what people follow, through a real SMTP server (aiosmtpd) started here: what it received is
parsed as a mail client would. At once and in digests, in the person's language, text and HTML, with a
one-click unsubscribe; none to deactivated people; retried while the server refuses."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import socket

import pytest
from aiosmtpd.controller import Controller
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from sharehub.access import services as access
from sharehub.catalog import services as catalog
from sharehub.errors import Invalid
from sharehub.events.consumers import run_pending
from sharehub.feeds import follows, mail, services
from sharehub.feeds.models import Follow, Mail
from tests import factories
from tests.conftest import login_client

SITE = "https://sharehub.example.org"


class Inbox:
    """An SMTP handler that keeps what it accepts, or refuses while `refusing` is set."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.refusing = False

    async def handle_DATA(self, server, session, envelope):
        if self.refusing:
            return "451 4.3.0 try again later"
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        message["X-Envelope-To"] = ", ".join(envelope.rcpt_tos)
        self.messages.append(message)
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def inbox(settings):
    handler = Inbox()
    controller = Controller(handler, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_ENABLED, settings.SITE_URL = True, SITE
    settings.DEFAULT_FROM_EMAIL = "Sharehub <noreply@example.org>"
    yield handler
    controller.stop()


@pytest.fixture
def reader(people):
    person = people["health_member"]
    person.email, person.language, person.display_name = "li.wei@example.org", "zh-hans", "李卫"
    person.save()
    return person


@pytest.fixture
def notice(org_units, people):
    return factories.resource(org_units["tax"], by=people["tax_steward"], title="办税指南")


def edit(people, notice, summary: str) -> None:
    catalog.update_resource(people["tax_steward"], notice, {"summary": summary})
    run_pending()


def parts(message) -> tuple[str, str]:
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def test_at_once_in_the_persons_language_with_one_click_unsubscribe(inbox, reader, people, notice):
    follows.follow(reader, "resource", notice.pk, delivery="email")
    run_pending()
    edit(people, notice, "新版")
    assert mail.run() == 1
    (message,) = inbox.messages
    assert message["To"] == "li.wei@example.org" and message["X-Envelope-To"] == "li.wei@example.org"
    subject = str(message["Subject"]).strip()  # an encoded, folded header reads back with the fold's space
    assert subject.startswith("[Sharehub] ") and "更新了" in subject
    text, html = parts(message)
    assert "李卫" in text and f"{SITE}/resources/{notice.code}/" in text and "办税指南" in html
    unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
    assert unsubscribe.startswith(f"{SITE}/mail/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = unsubscribe.removeprefix(SITE)
    anyone = Client(enforce_csrf_checks=True)
    asked = anyone.get(path)
    assert asked.status_code == 200 and Follow.objects.get(person=reader).delivery == "email"  # GET only asks
    done = anyone.post(path, {"List-Unsubscribe": "One-Click"})
    assert done.status_code == 200 and Follow.objects.get(person=reader).delivery == "in_app"
    assert anyone.get(path[:-3] + "xyz/").status_code == 404
    edit(people, notice, "再版")
    assert mail.run() == 0 and len(inbox.messages) == 1  # still notified in the app, no more mail


def test_a_daily_digest_gathers_a_days_updates(inbox, reader, people, notice, settings):
    reader.language = "en"
    reader.save()
    follows.follow(reader, "resource", notice.pk, delivery="daily")
    run_pending()
    edit(people, notice, "一")
    assert mail.run() == 1  # the first digest goes out at once
    edit(people, notice, "二")
    edit(people, notice, "三")
    assert mail.run() == 0  # the next waits a day
    assert mail.send_pending(timezone.now()) == 0
    later = timezone.now() + dt.timedelta(days=1, minutes=1)
    mail.queue(later)
    assert mail.send_pending(later) == 1
    digest = inbox.messages[-1]
    assert digest["Subject"] == "[Sharehub] Your daily digest: 2 updates"
    text, _html = parts(digest)
    assert text.count("updated") == 2 and "daily email" in text


def test_nothing_to_deactivated_people_or_about_what_they_no_longer_see(inbox, reader, org_units, people, notice):
    follows.follow(reader, "resource", notice.pk, delivery="email")
    run_pending()
    edit(people, notice, "一")
    catalog.update_resource(
        people["tax_steward"], notice, {"scope_all": False, "scope_departments": [org_units["tax"]]}
    )
    run_pending()
    mail.run()
    assert inbox.messages == []
    assert Mail.objects.get().status == Mail.Status.DROPPED
    other = factories.resource(org_units["tax"], by=people["tax_steward"], title="公开通知")
    follows.follow(reader, "resource", other.pk, delivery="email")
    run_pending()
    reader.is_active = False
    reader.save()
    edit(people, other, "改")
    mail.run()
    assert inbox.messages == []


def test_a_refusing_server_is_retried_with_backoff(inbox, reader, people, notice):
    follows.follow(reader, "resource", notice.pk, delivery="email")
    run_pending()
    edit(people, notice, "一")
    inbox.refusing = True
    mail.run()
    sent = Mail.objects.get()
    assert sent.status == Mail.Status.PENDING and sent.attempts == 1 and "451" in sent.last_error
    assert sent.next_attempt_at > timezone.now() + dt.timedelta(seconds=50)
    inbox.refusing = False
    assert mail.send_pending() == 0  # not due yet
    assert mail.send_pending(sent.next_attempt_at) == 1
    assert Mail.objects.get().status == Mail.Status.SENT and len(inbox.messages) == 1


def test_email_needs_the_server_and_an_address(settings, people, notice, reader):
    settings.EMAIL_ENABLED = False
    with pytest.raises(Invalid) as error:
        follows.follow(reader, "resource", notice.pk, delivery="daily")
    assert "delivery" in error.value.fields
    settings.EMAIL_ENABLED = True
    with pytest.raises(Invalid):
        follows.follow(people["tax_member"], "resource", notice.pk, delivery="email")  # no address


def test_the_following_page_offers_email_when_it_can(inbox, client_for, reader, notice):
    follows.follow(reader, "resource", notice.pk)
    page = client_for(reader).get(reverse("feeds:following")).content.decode()
    assert 'name="delivery"' in page and 'value="weekly"' in page
    saved = client_for(reader).post(
        reverse("feeds:follow"),
        {"kind": "resource", "target_id": notice.pk, "delivery": "weekly", "next": "/following/"},
    )
    assert saved.status_code == 302 and Follow.objects.get(person=reader).delivery == "weekly"


def test_the_language_switch_is_kept_for_email(client_for, reader):
    client = client_for(reader)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    reader.refresh_from_db()
    assert reader.language == "en"


def test_what_involves_a_steward_is_mailed_once_they_choose_it(inbox, people, org_units, settings):
    steward, member = people["tax_steward"], people["health_member"]
    steward.email = "steward@example.org"
    steward.save()
    conditional = factories.resource(org_units["tax"], by=steward, sharing_type="conditional", title="纳税明细")
    terms = {"purpose": "核验", "use_category": "verification", "period_days": 10, "accept_terms": True}
    access.create_request(member, conditional, **terms)
    run_pending()
    assert mail.run() == 0  # by default what involves you stays in the app
    page = login_client(steward)
    saved = page.post(reverse("feeds:mail_settings"), {"involved": "email"})
    assert saved.status_code == 302 and services.involved_mail(steward) == "email"
    second = factories.resource(org_units["tax"], by=steward, sharing_type="conditional", title="登记信息")
    access.create_request(member, second, **terms)
    run_pending()
    assert mail.run() == 1
    (message,) = inbox.messages
    assert message["To"] == "steward@example.org" and "登记信息" in parts(message)[0]
    path = str(message["List-Unsubscribe"]).strip().strip("<>").removeprefix(SITE)
    Client().post(path, {"List-Unsubscribe": "One-Click"})
    assert services.involved_mail(steward) == "in_app"  # the mail's unsubscribe turns this mail off too


def test_choosing_how_what_involves_you_is_mailed_is_checked(people, settings, client_for):
    steward = people["tax_steward"]
    settings.EMAIL_ENABLED = False
    with pytest.raises(Invalid) as no_mail:
        services.set_involved_mail(steward, "daily")
    assert "involved" in no_mail.value.fields
    settings.EMAIL_ENABLED = True
    steward.email = ""
    steward.save()
    for value in ("off", "hourly", "daily"):
        with pytest.raises(Invalid):
            services.set_involved_mail(steward, value)
    assert services.set_involved_mail(steward, "in_app") == "in_app"
    api = client_for(steward)
    wrong = api.put("/api/v1/notifications/mail", {"involved": "sometimes"}, content_type="application/json")
    assert wrong.status_code == 422 and "involved" in wrong.json()["error"]["fields"]
    steward.email = "s@example.org"
    steward.save()
    done = api.put("/api/v1/notifications/mail", {"involved": "weekly"}, content_type="application/json")
    assert done.json() == {"involved": "weekly", "email_enabled": True}
    assert api.get("/api/v1/notifications/mail").json()["involved"] == "weekly"
