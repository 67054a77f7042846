"""The widgets written in Python (sharehub/web/widgets.py) give the markup of Django's templates."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from sharehub.catalog.forms import FilterForm
from sharehub.catalog.models import Category
from sharehub.web import widgets

pytestmark = pytest.mark.django_db

QUERIES = [
    {},
    {"f": "1"},
    {"q": 'a "quoted" <b>&amp;</b>', "tag": "x'y", "kind": "dataset", "status": "draft", "archived": "on"},
    {"department": "999", "category": "nope", "updated_since": "not a date", "sharing_type": "bogus"},
    {"updated_since": "2026-01-31", "sharing_type": "open", "include_sub": "on", "sort": "title"},
]


def _django_markup(field) -> str:
    """The bound field rendered through Django's own widget templates."""
    widget = field.field.widget
    python_class = type(widget)
    django_class = next(c for c in python_class.__mro__[1:] if c.__module__.startswith("django."))
    widget.__class__ = django_class
    try:
        return str(field)
    finally:
        widget.__class__ = python_class


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("query", QUERIES)
def test_filter_form_widgets_match_django(query, language, org_units, people):
    parent = Category.objects.create(name="主题 <&>")
    Category.objects.create(name='财税 "x"', parent=parent)
    with translation.override(language):
        form = FilterForm(people["tax_member"], query)
        form.filters()
        form.style()
        checked = 0
        for field in form:
            if isinstance(field.field.widget, widgets._PythonRendered):
                assert str(field) == _django_markup(field), field.name
                checked += 1
        assert checked == 10


def test_optgroups_and_boolean_attributes_match_django():
    choices = [("", "---"), ("Group <1>", [("a", "A & a"), ("b", "B")]), ("c", "C")]
    fast = widgets.Select(attrs={"class": "form-select", "disabled": True, "hidden": False}, choices=choices)
    slow = forms.Select(attrs={"class": "form-select", "disabled": True, "hidden": False}, choices=choices)
    assert fast.render("x", "b", attrs={"id": "id_x"}) == slow.render("x", "b", attrs={"id": "id_x"})


def test_other_templates_are_rendered_by_django():
    widget = widgets.Select(choices=[("a", "A")])
    widget.option_template_name = "django/forms/widgets/radio_option.html"
    assert "<label><input" in widget.render("x", "a")
