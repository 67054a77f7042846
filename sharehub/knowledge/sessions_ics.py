"""Sharing sessions as iCalendar (RFC 5545) through the `icalendar` library: one session's invitation (METHOD
REQUEST, or CANCEL once cancelled) and a person's feed of upcoming sessions (METHOD PUBLISH) that calendar apps
subscribe to. The UID of a session never changes and its SEQUENCE rises with every change, so calendars
replace the event rather than adding another; times are in UTC."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _
from icalendar import Calendar, Event, vCalAddress, vDuration, vText

from sharehub.knowledge.models import Session, Signup

CONTENT_TYPE = "text/calendar; charset=utf-8"
PRODID = "-//Sharehub//Sharing sessions//EN"


def uid(session: Session) -> str:
    return f"session-{session.pk}@sharehub"


def _calendar(method: str, name: str = "") -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    if name:
        calendar.add("x-wr-calname", name)
    return calendar


def _address(user) -> vCalAddress | None:
    email = (getattr(user, "email", "") or "").strip()
    if not email or any(ch in email for ch in '\r\n;:"<>'):
        return None
    address = vCalAddress(f"mailto:{email}")
    address.params["cn"] = vText(str(user))
    return address


def _event(session: Session, url: str, *, mine: str | None = None, attendee=None) -> Event:
    event = Event()
    event.add("uid", uid(session))
    event.add("dtstamp", timezone.now().astimezone(UTC))
    event.add("last-modified", session.updated_at.astimezone(UTC))
    event.add("sequence", session.sequence)
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    title = session.title
    if mine == Signup.Status.CONFIRMED:
        title = _("✓ %(title)s (you have a seat)") % {"title": title}
    elif mine == Signup.Status.WAITING:
        title = _("%(title)s (you are on the waiting list)") % {"title": title}
    event.add("summary", title)
    lines = [session.description] if session.description else []
    if session.link:
        lines.append(_("Online: %(link)s") % {"link": session.link})
    lines.append(_("Hosted by %(department)s") % {"department": session.host_department.name})
    event.add("description", "\n\n".join(lines))
    location = session.place or session.link
    if location:
        event.add("location", location)
    event.add("url", url)
    event.add("categories", [session.host_department.name])
    cancelled = session.status == Session.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add("transp", "OPAQUE" if mine == Signup.Status.CONFIRMED else "TRANSPARENT")
    organizer = _address(session.created_by) if session.created_by_id else None
    if organizer is not None:
        event.add("organizer", organizer)
    if attendee is not None:
        address = _address(attendee)
        if address is not None:
            address.params["partstat"] = "ACCEPTED" if mine == Signup.Status.CONFIRMED else "TENTATIVE"
            event.add("attendee", address)
    return event


def invitation(session: Session, url: str, *, reader=None, mine: str | None = None) -> bytes:
    """One session as a calendar file: an invitation (REQUEST), or its CANCEL once it is cancelled."""
    method = "CANCEL" if session.status == Session.Status.CANCELLED else "REQUEST"
    calendar = _calendar(method)
    calendar.add_component(_event(session, url, mine=mine, attendee=reader))
    return calendar.to_ical()


def feed(sessions: Iterable[Session], url_of: Callable[[Session], str], *, name: str) -> bytes:
    """Upcoming sessions (each annotated with the reader's `my_status`) as one subscribable calendar."""
    calendar = _calendar("PUBLISH", name)
    calendar.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(timedelta(hours=1)))
    for session in sessions:
        calendar.add_component(_event(session, url_of(session), mine=getattr(session, "my_status", None)))
    return calendar.to_ical()
