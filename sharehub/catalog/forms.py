"""Forms of the catalog pages: they parse what the browser sent; the services validate and decide."""

from __future__ import annotations

import re
from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.catalog import queries
from sharehub.catalog.models import Category, DataGrade, Resource
from sharehub.catalog.queries import ResourceFilters, Sort
from sharehub.policy.engine import creatable_departments, visible_departments
from sharehub.web import widgets

SCOPE_ALL = "all"
SCOPE_CHOSEN = "chosen"
_FIELD_SPLIT = re.compile(r"\s*[,，]\s*")


def _empty(label: str) -> list[tuple[str, str]]:
    return [("", label)]


def _tree_label(department) -> str:
    """A department's name indented by its depth in the tree, for select boxes."""
    return "\u3000" * department.depth + department.name


class DepartmentChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return _tree_label(obj)


class DepartmentMultipleChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _tree_label(obj)


class BootstrapMixin:
    """Give every widget the Bootstrap class it needs, and mark the ones with errors."""

    def style(self) -> None:
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput | forms.RadioSelect | forms.CheckboxSelectMultiple):
                css = "form-check-input"
            elif isinstance(widget, forms.Select | forms.SelectMultiple):
                css = "form-select"
            else:
                css = "form-control"
            if self.is_bound and name in self.errors:
                css += " is-invalid"
            widget.attrs["class"] = css

    def add_service_errors(self, fields: dict) -> None:
        """Put the field errors of a service's Invalid next to the fields; others on the form."""
        for name, message in fields.items():
            target = name if name in self.fields else None
            if target is None and name == "scope_all":
                target = "scope"
            self.add_error(target, str(message))
        self.style()


# --- the catalog list ----------------------------------------------------------------------------


class FilterForm(BootstrapMixin, forms.Form):
    # Widgets written in Python (sharehub/web/widgets.py): the same markup without a template render
    # per <option>, on the page everyone opens most.
    q = forms.CharField(label=gettext_lazy("Text"), required=False, max_length=200, widget=widgets.TextInput)
    department = DepartmentChoiceField(
        label=gettext_lazy("Department"), queryset=None, required=False, widget=widgets.Select
    )
    include_sub = forms.BooleanField(
        label=gettext_lazy("Include sub-departments"), required=False, initial=True, widget=widgets.CheckboxInput
    )
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), required=False, widget=widgets.Select)
    sharing_type = forms.ChoiceField(label=gettext_lazy("Sharing type"), required=False, widget=widgets.Select)
    status = forms.ChoiceField(label=gettext_lazy("Status"), required=False, widget=widgets.Select)
    category = forms.ModelChoiceField(
        label=gettext_lazy("Category"),
        queryset=Category.objects.select_related("parent"),
        required=False,
        widget=widgets.Select,
    )
    tag = forms.CharField(label=gettext_lazy("Tag"), required=False, max_length=50, widget=widgets.TextInput)
    updated_since = forms.DateField(
        label=gettext_lazy("Updated since"), required=False, widget=widgets.DateInput(attrs={"type": "date"})
    )
    archived = forms.BooleanField(
        label=gettext_lazy("Show archived entries"), required=False, widget=widgets.CheckboxInput
    )
    sort = forms.ChoiceField(
        label=gettext_lazy("Sort by"),
        required=False,
        choices=[
            (Sort.NEWEST, gettext_lazy("Newest change first")),
            (Sort.TITLE, gettext_lazy("Title")),
            (Sort.DEPARTMENT, gettext_lazy("Department")),
            (Sort.REQUESTED, gettext_lazy("Most requested")),
        ],
    )

    def __init__(self, user, data=None):
        # A filter form is bound from the query string; "include sub-departments" defaults to on
        # when the form was never submitted (no `f` marker from the form's hidden field).
        if data is not None:
            data = data.copy()
            if "f" not in data and "include_sub" not in data:
                data["include_sub"] = "on"
        super().__init__(data)
        self.fields["department"].queryset = visible_departments(user)
        self.fields["department"].empty_label = _("All departments")
        self.fields["category"].empty_label = _("All categories")
        self.fields["kind"].choices = _empty(_("All kinds")) + list(Resource.Kind.choices)
        self.fields["sharing_type"].choices = _empty(_("All sharing types")) + list(Resource.SharingType.choices)
        self.fields["status"].choices = _empty(_("All statuses")) + list(Resource.Status.choices)
        self.style()

    def filters(self) -> ResourceFilters:
        """The valid filters; a value that does not parse is ignored (and marked on the form)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        since = data.get("updated_since")
        return ResourceFilters(
            department=data["department"].pk if data.get("department") else None,
            kind=data.get("kind") or None,
            tag=(data.get("tag") or "").strip() or None,
            sharing_type=data.get("sharing_type") or None,
            status=data.get("status") or None,
            category=data["category"].pk if data.get("category") else None,
            updated_since=timezone.make_aware(datetime.combine(since, time.min)) if since else None,
            text=(data.get("q") or "").strip() or None,
            include_subdepartments=bool(data.get("include_sub", True)),
            archived=bool(data.get("archived")),
        )

    def sort_order(self) -> str:
        """The chosen order; newest change first when none (or an unknown one) was asked for."""
        self.is_valid()
        return getattr(self, "cleaned_data", {}).get("sort") or Sort.NEWEST


# --- creating and editing a resource -------------------------------------------------------------


def parse_dataset_fields(text: str, current: list | None = None) -> list:
    """One field a line: "name, type, sensitivity, description" (only the name is required). What the
    line does not say of a field that exists (labels, masking, choices, source) is kept; the schema
    page of the data tab edits all of it."""
    known = {f["name"]: f for f in current or []}
    fields = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        parts = _FIELD_SPLIT.split(line.strip(), maxsplit=3)
        parts += [""] * (4 - len(parts))
        name, kind, sensitivity, description = (p.strip() for p in parts)
        field = dict(known.get(name, {}))
        if sensitivity and field.get("sensitivity") not in (None, sensitivity):
            field.pop("masking", None)  # the new level's default masking
        field.update({"name": name, "type": kind or field.get("type", ""), "description": description})
        field["sensitivity"] = sensitivity or field.get("sensitivity", "")
        fields.append(field)
    return fields


def format_dataset_fields(fields: list) -> str:
    return "\n".join(
        ", ".join(str(f.get(k, "")) for k in ("name", "type", "sensitivity", "description")).rstrip(", ")
        for f in fields or []
    )


class SharingFieldsMixin:
    """The sharing fields, shared by the resource form and the sharing page."""

    def add_sharing_fields(self) -> None:
        self.fields["sharing_type"] = forms.ChoiceField(
            label=_("Sharing type"), choices=Resource.SharingType.choices, widget=forms.RadioSelect
        )
        self.fields["scope"] = forms.ChoiceField(
            label=_("Scope"),
            choices=[(SCOPE_ALL, _("The whole organization")), (SCOPE_CHOSEN, _("Chosen departments"))],
            widget=forms.RadioSelect,
            initial=SCOPE_ALL,
        )
        self.fields["scope_departments"] = DepartmentMultipleChoiceField(
            label=_("Departments in scope"),
            queryset=visible_departments(self.user),
            required=False,
            help_text=_("Sub-departments are included. Hold Ctrl (⌘ on a Mac) to choose several."),
            widget=forms.SelectMultiple(attrs={"size": 6}),
        )
        self.fields["conditions"] = forms.CharField(
            label=_("Sharing conditions"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("What a requester must meet, e.g. the purpose the data may be used for."),
        )
        self.fields["terms_of_use"] = forms.CharField(
            label=_("Terms of use"),
            required=False,
            max_length=4000,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("What a requester accepts before asking, e.g. no copies outside the organization."),
        )
        self.fields["max_grant_days"] = forms.IntegerField(
            label=_("Longest grant (days)"),
            required=False,
            min_value=1,
            max_value=3650,
            initial=90,
            help_text=_("Requests may ask for at most this many days."),
            error_messages={
                "min_value": _("A whole number of days from 1 to 3650."),
                "max_value": _("A whole number of days from 1 to 3650."),
                "invalid": _("A whole number of days from 1 to 3650."),
            },
        )
        self.fields["requires_head_approval"] = forms.BooleanField(
            label=_("Requests also need the head's approval"),
            required=False,
            help_text=_("After a steward approves, the head of the owner department decides too."),
        )
        self.fields["restriction_basis"] = forms.CharField(
            label=_("Basis for not sharing"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 3}),
            help_text=_("The law, regulation or policy that keeps this resource inside the department."),
        )

    def sharing_values(self) -> dict:
        data = self.cleaned_data
        sharing = data["sharing_type"]
        scope_all = data["scope"] == SCOPE_ALL
        values = {
            "sharing_type": sharing,
            "scope_all": scope_all,
            "scope_departments": [] if scope_all else list(data["scope_departments"]),
            "conditions": data["conditions"] if sharing == Resource.SharingType.CONDITIONAL else "",
            "restriction_basis": data["restriction_basis"] if sharing == Resource.SharingType.RESTRICTED else "",
        }
        if sharing == Resource.SharingType.CONDITIONAL:
            values["terms_of_use"] = data.get("terms_of_use", "")
            values["requires_head_approval"] = bool(data.get("requires_head_approval"))
            if data.get("max_grant_days") is not None:
                values["max_grant_days"] = data["max_grant_days"]
        return values

    @staticmethod
    def sharing_initial(resource: Resource) -> dict:
        return {
            "sharing_type": resource.sharing_type,
            "scope": SCOPE_ALL if resource.scope_all else SCOPE_CHOSEN,
            "scope_departments": list(resource.scope_departments.all()),
            "conditions": resource.conditions,
            "restriction_basis": resource.restriction_basis,
            "terms_of_use": resource.terms_of_use,
            "max_grant_days": resource.max_grant_days,
            "requires_head_approval": resource.requires_head_approval,
        }


class ResourceForm(SharingFieldsMixin, BootstrapMixin, forms.Form):
    """Create (with owner department and kind) or edit (content; sharing only for managers)."""

    def __init__(self, user, *args, resource: Resource | None = None, with_sharing: bool = True, **kwargs):
        self.user = user
        self.resource = resource
        self.with_sharing = with_sharing
        if resource is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(resource, with_sharing)
        super().__init__(*args, **kwargs)
        if resource is None:
            departments = list(creatable_departments(user))
            self.fields["owner_department"] = DepartmentChoiceField(
                label=_("Owner department"), queryset=creatable_departments(user), empty_label=None
            )
            # Articles are written in a department's knowledge space (sharehub.knowledge), with their place in its tree.
            kinds = [(value, label) for value, label in Resource.Kind.choices if value != Resource.Kind.ARTICLE]
            self.fields["kind"] = forms.ChoiceField(label=_("Kind"), choices=kinds)
            department_ids = [d.pk for d in departments]
        else:
            department_ids = [resource.owner_department_id]
        self.fields["title"] = forms.CharField(label=_("Title"), max_length=200)
        self.fields["summary"] = forms.CharField(
            label=_("Summary"), required=False, widget=forms.Textarea(attrs={"rows": 2})
        )
        self.fields["body"] = forms.CharField(
            label=_("Body"),
            required=False,
            strip=False,
            widget=forms.Textarea(attrs={"rows": 10}),
            help_text=_("Markdown: # heading, **bold**, - list, [text](https://…), tables."),
        )
        self.fields["tags"] = forms.CharField(
            label=_("Tags"), required=False, help_text=_("Separated by commas, e.g. 社保, 税务, 2025")
        )
        self.fields["update_frequency"] = forms.ChoiceField(
            label=_("Update frequency"), choices=Resource.Frequency.choices, initial=Resource.Frequency.IRREGULAR
        )
        self.fields["category"] = forms.ModelChoiceField(
            label=_("Category"), queryset=Category.objects.select_related("parent"), required=False, empty_label="—"
        )
        self.fields["data_grade"] = forms.ModelChoiceField(
            label=_("Data grade"), queryset=DataGrade.objects.all(), required=False, empty_label="—"
        )
        self.fields["steward"] = forms.ModelChoiceField(
            label=_("Steward"),
            queryset=queries.steward_candidates(department_ids, resource.steward_id if resource else None),
            required=False,
            empty_label=_("(the department's steward)") if resource is None else "—",
            help_text=_("A steward or head of the owner department; they decide access requests."),
        )
        self.fields["project"] = forms.ModelChoiceField(
            label=_("Project"),
            queryset=queries.projects_of(department_ids),
            required=False,
            empty_label="—",
            help_text=_("Progress updates belong to a project of the owner department."),
        )
        self.fields["link_url"] = forms.CharField(
            label=_("Link"), required=False, max_length=500, help_text=_("The address of the external system.")
        )
        self.fields["dataset_fields"] = forms.CharField(
            label=_("Dataset fields"),
            required=False,
            widget=forms.Textarea(attrs={"rows": 5, "class": "font-monospace"}),
            help_text=_(
                "One field a line: name, type, sensitivity (public, internal, sensitive, secret), description."
            ),
        )
        if with_sharing:
            self.add_sharing_fields()
        if resource is not None:
            self.fields["note"] = forms.CharField(
                label=_("Change note"),
                required=False,
                max_length=300,
                help_text=_("What changed and why; shown in the version history."),
            )
        self.style()

    @classmethod
    def initial_for(cls, resource: Resource, with_sharing: bool) -> dict:
        initial = {
            "title": resource.title,
            "summary": resource.summary,
            "body": resource.body,
            "tags": ", ".join(t.name for t in resource.tags.all()),
            "update_frequency": resource.update_frequency,
            "category": resource.category_id,
            "data_grade": resource.data_grade_id,
            "steward": resource.steward_id,
            "project": resource.project_id,
            "link_url": resource.link_url,
            "dataset_fields": format_dataset_fields(resource.dataset_fields),
        }
        if with_sharing:
            initial.update(cls.sharing_initial(resource))
        return initial

    @property
    def kind(self) -> str:
        if self.resource is not None:
            return self.resource.kind
        return self.cleaned_data.get("kind", "")

    def values(self) -> dict:
        """What to hand to the services; fields that do not apply to the kind are left out."""
        data = self.cleaned_data
        kind = self.kind
        values = {
            "title": data["title"],
            "summary": data["summary"],
            "body": data["body"],
            "tags": data["tags"],
            "update_frequency": data["update_frequency"],
            "category": data["category"],
            "data_grade": data["data_grade"],
        }
        if data["steward"] is not None or self.resource is not None:
            values["steward"] = data["steward"]
        if kind == Resource.Kind.PROGRESS:
            values["project"] = data["project"]
        if kind == Resource.Kind.LINK:
            values["link_url"] = data["link_url"]
        if kind == Resource.Kind.DATASET:
            current = self.resource.dataset_fields if self.resource is not None else None
            values["dataset_fields"] = parse_dataset_fields(data["dataset_fields"], current)
        if self.with_sharing:
            values.update(self.sharing_values())
        if self.resource is not None and values.get("steward") == self.resource.steward:
            # unchanged: do not re-check a steward whose role may have changed since
            values.pop("steward")
        return values


class SharingForm(SharingFieldsMixin, BootstrapMixin, forms.Form):
    def __init__(self, user, resource: Resource, *args, **kwargs):
        self.user = user
        kwargs.setdefault("initial", self.sharing_initial(resource))
        super().__init__(*args, **kwargs)
        self.add_sharing_fields()
        self.style()


class UploadForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("File"))
