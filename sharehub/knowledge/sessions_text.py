"""How sharing-session actions read: on the audit page (`events.describe`) and as notifications
(`feeds.messages`). Registered from `sessions.register()` when the app is ready."""

from __future__ import annotations

from datetime import datetime

from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.events import describe
from sharehub.feeds import messages
from sharehub.knowledge.models import Session, Signup

TARGET = "knowledge.session"


def _ids(ids: set[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and len(i) <= 18]


def _sessions(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Sessions by title, linked to their page (everyone signed in sees sessions)."""
    found = {}
    for pk, title in Session.objects.filter(pk__in=_ids(ids)).values_list("pk", "title"):
        found[str(pk)] = describe.Ref(title, "", reverse("knowledge:session", args=[pk]))
    return found


def _link(details: dict) -> str:
    session = str(details.get("session", ""))
    return reverse("knowledge:session", args=[session]) if session.isdigit() and len(session) <= 18 else ""


def _local(value) -> str:
    try:
        return date_format(timezone.localtime(datetime.fromisoformat(str(value))), "DATETIME_FORMAT")
    except (TypeError, ValueError, OverflowError):
        return "—"


def _updated(details: dict) -> str:
    details["starts"] = _local(details.get("starts_at"))
    return gettext("The sharing session %(title)s you signed up for changed: it starts %(starts)s, at %(place)s.")


def _cancelled(details: dict) -> str:
    if details.get("reason"):
        return gettext("The sharing session %(title)s was cancelled: %(reason)s")
    return gettext("The sharing session %(title)s was cancelled.")


def _rated(details: dict) -> str:
    if details.get("changed"):
        return gettext("%(actor)s changed their rating of %(target)s to %(stars)s stars.")
    return gettext("%(actor)s rated %(target)s %(stars)s stars.")


def _signed_up(details: dict) -> str:
    if details.get("status") == Signup.Status.WAITING:
        return gettext("%(actor)s joined the waiting list of %(target)s.")
    return gettext("%(actor)s signed up for %(target)s.")


def _reminder(details: dict) -> str:
    details["starts"] = _local(details.get("starts_at"))
    return gettext("Reminder: the sharing session %(title)s starts %(starts)s.")


def _promoted(details: dict) -> str:
    details["starts"] = _local(details.get("starts_at"))
    return gettext("A seat freed up: you now have a seat at %(title)s (%(starts)s).")


def _scheduled_notice(details: dict) -> str:
    details["starts"] = _local(details.get("starts_at"))
    return gettext("%(actor)s scheduled the sharing session %(title)s (%(starts)s) with you as a speaker.")


def register() -> None:
    describe.register_area("session", _("Sharing sessions"))
    describe.register_target(TARGET, _sessions)
    entries = {
        "session.scheduled": (_("Session scheduled"), _("%(actor)s scheduled the sharing session %(target)s.")),
        "session.updated": (_("Session changed"), _("%(actor)s changed the sharing session %(target)s.")),
        "session.cancelled": (_("Session cancelled"), _("%(actor)s cancelled the sharing session %(target)s.")),
        "session.signed_up": (_("Signed up for a session"), _signed_up),
        "session.signup_cancelled": (
            _("Session sign-up cancelled"),
            _("%(actor)s gave up their place at %(target)s."),
        ),
        "session.promoted": (
            _("Promoted from the waiting list"),
            _("%(person)s got a seat at %(target)s from the waiting list."),
        ),
        "session.reminder": (_("Session reminder sent"), _("Those with a seat at %(target)s were reminded.")),
        "session.material_added": (_("Session material added"), _("%(actor)s added %(filename)s to %(target)s.")),
        "session.material_removed": (
            _("Session material removed"),
            _("%(actor)s removed %(filename)s from %(target)s."),
        ),
        "session.recording_set": (
            _("Session recording linked"),
            _("%(actor)s set the recording of %(target)s."),
        ),
        "session.attendance_marked": (
            _("Session attendance marked"),
            _("%(actor)s marked attendance at %(target)s: %(present)s present, %(absent)s absent."),
        ),
        "session.rated": (_("Session rated"), _rated),
        "session.feed_renewed": (
            _("Calendar feed address renewed"),
            _("%(actor)s made a new address for their sessions calendar feed."),
        ),
    }
    for action, (name, sentence) in entries.items():
        describe.register(action, name, sentence)
    hidden = ("session", "title", "nonce", "recipients", "sequence", "material", "changed", "credited")
    for key in hidden:
        describe.register_detail(key, key, describe.HIDDEN, actions=("session.",))
    describe.register_detail("starts_at", _("Starts"), describe.DATETIME, actions=("session.",))
    describe.register_detail("ends_at", _("Ends"), describe.DATETIME, actions=("session.",))
    describe.register_detail("capacity", _("Seats"), describe.NUMBER, actions=("session.",))
    describe.register_detail("speakers", _("Speakers"), describe.PEOPLE, actions=("session.",))
    describe.register_detail("person", _("Person"), describe.PERSON, actions=("session.",))
    describe.register_detail("place", _("Place"), actions=("session.",))
    describe.register_detail("reason", _("Reason"), actions=("session.",))
    describe.register_detail("stars", _("Rating"), describe.NUMBER, actions=("session.",))
    describe.register_detail("present", _("Present"), describe.NUMBER, actions=("session.",))
    describe.register_detail("absent", _("Absent"), describe.NUMBER, actions=("session.",))
    describe.register_detail("recording_url", _("Recording"), actions=("session.",))
    describe.register_detail("filename", _("File name"), actions=("session.",))
    describe.register_detail("size", _("Size"), describe.SIZE, actions=("session.",))
    describe.register_detail("sha256", _("SHA-256"), describe.DIGEST, actions=("session.",))
    describe.register_detail("mime_type", _("File type"), actions=("session.",))
    describe.register_detail(
        "status", _("Status"), describe.CHOICE, choices=dict(Signup.Status.choices), actions=("session.",)
    )
    describe.register_detail(
        "fields", _("Changed fields"), describe.CHOICES, choices=_LazyFields(), actions=("session.updated",)
    )

    messages.register("session.scheduled", _scheduled_notice, _link)
    messages.register("session.updated", _updated, _link)
    messages.register("session.cancelled", _cancelled, _link)
    messages.register("session.promoted", _promoted, _link)
    messages.register("session.reminder", _reminder, _link)
    messages.register(
        "session.material_added", _("%(actor)s added %(filename)s to the sharing session %(title)s."), _link
    )
    messages.register("session.recording_set", _("The recording of the sharing session %(title)s is online."), _link)


class _LazyFields(dict):
    """The session's field names as people read them, looked up when first read."""

    def get(self, key, default=None):
        return {f.name: f.verbose_name for f in Session._meta.get_fields() if getattr(f, "verbose_name", None)}.get(
            key, default
        )
