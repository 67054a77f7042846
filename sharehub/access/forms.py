"""Forms of the access pages: they parse what the browser sent; the services validate and decide."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.access import fields as dataset_fields
from sharehub.access.models import AccessRequest
from sharehub.catalog.forms import BootstrapMixin
from sharehub.catalog.models import Resource
from sharehub.org.models import Department

FOR_MYSELF = "self"


class RequestForm(BootstrapMixin, forms.Form):
    """Ask for a conditional resource's content."""

    def __init__(self, user, resource: Resource, *args, **kwargs):
        self.user = user
        self.resource = resource
        super().__init__(*args, **kwargs)
        self.fields["purpose"] = forms.CharField(
            label=_("Purpose"),
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 4}),
            help_text=_("What you need the content for; the steward decides on it."),
            error_messages={"required": _("State the purpose of the request.")},
        )
        self.fields["use_category"] = forms.ChoiceField(
            label=_("Intended use"), choices=AccessRequest.UseCategory.choices
        )
        self.fields["period_days"] = forms.IntegerField(
            label=_("Period (days)"),
            min_value=1,
            max_value=resource.max_grant_days,
            initial=min(30, resource.max_grant_days),
            help_text=_("At most %(n)s days for this resource.") % {"n": resource.max_grant_days},
            error_messages={
                "max_value": _("At most %(n)s days for this resource.") % {"n": resource.max_grant_days},
                "min_value": _("The period is at least one day."),
                "invalid": _("Give the period as a whole number of days."),
                "required": _("Give the period as a whole number of days."),
            },
        )
        departments = Department.objects.filter(memberships__user=user).order_by("path").distinct()
        self.fields["for_whom"] = forms.ChoiceField(
            label=_("For whom"),
            choices=[(FOR_MYSELF, _("For myself"))]
            + [(str(d.pk), _("For the whole department %(dept)s") % {"dept": d.name}) for d in departments],
            initial=FOR_MYSELF,
            widget=forms.RadioSelect,
            help_text=_("A grant to a department lets every member of it read the content."),
        )
        names = [f.get("name") for f in resource.dataset_fields or [] if f.get("name")]
        if resource.kind == Resource.Kind.DATASET and names:
            self.fields["fields_wanted"] = forms.MultipleChoiceField(
                label=_("Fields wanted"),
                choices=dataset_fields.choices(resource, names),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=_("Ask only for the fields your purpose needs."),
                error_messages={"invalid_choice": _("The dataset has no field named %(value)s.")},
            )
        self.fields["accept_terms"] = forms.BooleanField(
            label=_("I accept the terms of use"),
            required=True,
            error_messages={"required": _("Accept the terms of use to send the request.")},
        )
        self.style()

    def values(self) -> dict:
        data = self.cleaned_data
        for_whom = data.get("for_whom")
        return {
            "purpose": data["purpose"],
            "use_category": data["use_category"],
            "period_days": data["period_days"],
            "accept_terms": bool(data.get("accept_terms")),
            "for_department": None if for_whom in (None, "", FOR_MYSELF) else int(for_whom),
            "fields": list(data.get("fields_wanted") or []),
        }

    def add_service_errors(self, fields: dict) -> None:
        names = {"for_department": "for_whom", "fields": "fields_wanted"}
        renamed = {names.get(name, name): message for name, message in fields.items()}
        super().add_service_errors(renamed)


class ApproveForm(BootstrapMixin, forms.Form):
    """Approve, optionally narrower than asked."""

    def __init__(self, access_request: AccessRequest, *args, **kwargs):
        self.access_request = access_request
        super().__init__(*args, **kwargs)
        asked = access_request.period_days
        self.fields["period_days"] = forms.IntegerField(
            label=_("Period (days)"),
            min_value=1,
            max_value=asked,
            initial=asked,
            help_text=_("Up to the %(n)s days asked for; shorten it to approve less.") % {"n": asked},
            error_messages={
                "max_value": _("Between 1 and the %(n)s days asked for.") % {"n": asked},
                "min_value": _("Between 1 and the %(n)s days asked for.") % {"n": asked},
                "invalid": _("Give the period as a whole number of days."),
                "required": _("Give the period as a whole number of days."),
            },
        )
        if access_request.fields:
            self.fields["fields_granted"] = forms.MultipleChoiceField(
                label=_("Fields granted"),
                choices=dataset_fields.choices(access_request.resource, access_request.fields),
                initial=list(access_request.fields),
                required=False,
                widget=forms.CheckboxSelectMultiple,
                help_text=_("Untick the fields you do not grant."),
            )
        if access_request.for_department_id:
            self.fields["requester_only"] = forms.BooleanField(
                label=_("Grant only to the requester, not to the whole department"), required=False
            )
        self.fields["note"] = forms.CharField(
            label=_("Note to the requester"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 2}),
        )
        self.style()

    def add_service_errors(self, fields: dict) -> None:
        super().add_service_errors({("fields_granted" if n == "fields" else n): m for n, m in fields.items()})

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            "period_days": data["period_days"],
            "requester_only": bool(data.get("requester_only")),
            "note": data.get("note", ""),
        }
        if "fields_granted" in self.fields:
            values["fields"] = list(data.get("fields_granted") or [])
        return values


class ReasonForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Give a reason.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


class QuestionForm(BootstrapMixin, forms.Form):
    question = forms.CharField(
        label=gettext_lazy("Question to the requester"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": gettext_lazy("Write the question.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


class AnswerForm(BootstrapMixin, forms.Form):
    answer = forms.CharField(
        label=gettext_lazy("Your answer"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Write your answer.")},
    )
    attachment = forms.FileField(
        label=gettext_lazy("Attach a file (optional)"),
        required=False,
        help_text=gettext_lazy("Only you and the deciders of this request can download it."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.style()


def status_choices(*, with_all: bool = True, only=None) -> list[tuple[str, str]]:
    statuses = [(value, label) for value, label in AccessRequest.Status.choices if only is None or value in only]
    head = [("", _("All statuses")), ("open", _("Open"))] if with_all else []
    return head + statuses
