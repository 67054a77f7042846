"""Forms of the sharing-session pages. They only parse what was typed; `sessions` validates and decides."""

from __future__ import annotations

import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.catalog.forms import BootstrapMixin
from sharehub.knowledge import sessions
from sharehub.knowledge.models import Session
from sharehub.org.models import Department, User
from sharehub.policy.knowledge import SessionAction, decide_session

_LOCAL = "%Y-%m-%dT%H:%M"


def hostable_departments(actor) -> list[Department]:
    """The departments the actor may host sessions for (the policy decides each)."""
    candidates = Department.objects.filter(archived_at__isnull=True).order_by("path")
    return [d for d in candidates if decide_session(actor, SessionAction.SCHEDULE, d)]


class SessionForm(BootstrapMixin, forms.Form):
    title = forms.CharField(label=gettext_lazy("Title"), max_length=sessions.MAX_TITLE)
    host_department = forms.ChoiceField(label=gettext_lazy("Host department"))
    speakers = forms.CharField(
        label=gettext_lazy("Speakers"),
        required=False,
        max_length=1000,
        help_text=gettext_lazy("Login names, separated by commas."),
    )
    starts_at = forms.DateTimeField(
        label=gettext_lazy("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL)
    )
    ends_at = forms.DateTimeField(
        label=gettext_lazy("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=_LOCAL)
    )
    place = forms.CharField(
        label=gettext_lazy("Place"),
        required=False,
        max_length=sessions.MAX_PLACE,
        help_text=gettext_lazy("A room, or leave empty for an online session."),
    )
    link = forms.CharField(
        label=gettext_lazy("Online link"),
        required=False,
        max_length=sessions.MAX_LINK,
        widget=forms.URLInput(),
        help_text=gettext_lazy("http:// or https:// (a meeting room on the web)."),
    )
    capacity = forms.IntegerField(
        label=gettext_lazy("Seats"),
        min_value=1,
        max_value=sessions.MAX_CAPACITY,
        help_text=gettext_lazy("Further sign-ups join the waiting list."),
    )
    description = forms.CharField(
        label=gettext_lazy("Description"),
        required=False,
        max_length=sessions.MAX_DESCRIPTION,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("Markdown."),
    )

    def __init__(self, actor, *args, session: Session | None = None, **kwargs):
        self.session = session
        if session is not None and not args and "initial" not in kwargs:
            kwargs["initial"] = {
                "title": session.title,
                "host_department": str(session.host_department_id),
                "speakers": ", ".join(u.username for u in sessions.speakers_in_order(session)),
                "starts_at": timezone.localtime(session.starts_at).strftime(_LOCAL),
                "ends_at": timezone.localtime(session.ends_at).strftime(_LOCAL),
                "place": session.place,
                "link": session.link,
                "capacity": session.capacity,
                "description": session.description,
            }
        super().__init__(*args, **kwargs)
        choices = [(str(d.pk), "\u3000" * d.depth + d.name) for d in hostable_departments(actor)]
        if session is not None and str(session.host_department_id) not in {c[0] for c in choices}:
            choices.insert(0, (str(session.host_department_id), session.host_department.name))
        self.fields["host_department"].choices = choices
        self.style()

    def values(self) -> dict:
        """What to hand to the service (edits: only what changed is compared there)."""
        data = dict(self.cleaned_data)
        data["host_department"] = int(data["host_department"])
        data["speakers"] = self._speaker_ids(data.get("speakers") or "")
        for name in ("place", "link", "description"):
            data[name] = data.get(name) or ""
        return data

    def _speaker_ids(self, text: str) -> list[int]:
        names = [n for n in re.split(r"[,，;；\s]+", text.strip()) if n]
        if not names:
            return []
        found = dict(
            User.objects.filter(username__in=names, is_active=True, kind=User.Kind.PERSON).values_list("username", "pk")
        )
        missing = [n for n in names if n not in found]
        if missing:
            self.add_error("speakers", _("No such people: %(names)s.") % {"names": ", ".join(missing[:5])})
            self.style()
            raise forms.ValidationError("speakers")
        return [found[n] for n in dict.fromkeys(names)]
