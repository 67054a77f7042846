"""Form widgets that write their HTML in Python instead of through Django's widget templates.

Django renders a <select> with one template for the box, one include per <option> and one more per
option for its attributes: the catalog's filter form spent a fifth of the page's rendering there
(issue 11). These widgets give the same markup, character for character (tests/web/test_widgets.py
compares them with Django's), from the same context (`get_context`: name, value, attrs with the
id, aria-describedby, required… that the bound field adds). A widget given other templates falls
back to Django's rendering.
"""

from __future__ import annotations

from django import forms
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe


def _attrs(attrs: dict) -> str:
    """django/forms/widgets/attrs.html"""
    return "".join(
        f" {conditional_escape(name)}"
        if value is True
        else f' {conditional_escape(name)}="{conditional_escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(widget: dict) -> str:
    """django/forms/widgets/input.html"""
    value = widget["value"]
    shown = "" if value is None else f' value="{conditional_escape(value)}"'
    return (
        f'<input type="{conditional_escape(widget["type"])}" name="{conditional_escape(widget["name"])}"'
        f"{shown}{_attrs(widget['attrs'])}>"
    )


def _option(option: dict) -> str:
    """django/forms/widgets/select_option.html (the template ends with a newline)."""
    return (
        f'<option value="{conditional_escape(option["value"])}"{_attrs(option["attrs"])}>'
        f"{conditional_escape(option['label'])}</option>\n"
    )


def _select(widget: dict) -> str:
    """django/forms/widgets/select.html"""
    parts = [f'<select name="{conditional_escape(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, group_choices, _index in widget["optgroups"]:
        if group_name:
            parts.append(f'\n  <optgroup label="{conditional_escape(group_name)}">')
        parts.extend("\n  " + _option(option) for option in group_choices)
        if group_name:
            parts.append("\n  </optgroup>")
    parts.append("\n</select>")
    return "".join(parts)


class _PythonRendered:
    """Render `default_template` in Python; any other template through Django's renderer."""

    default_template = ""
    write = staticmethod(lambda widget: "")

    def _render(self, template_name, context, renderer=None) -> SafeString:
        if template_name != self.default_template or self._other_templates():
            return super()._render(template_name, context, renderer)
        return mark_safe(self.write(context["widget"]))

    def _other_templates(self) -> bool:
        return False


class TextInput(_PythonRendered, forms.TextInput):
    default_template = forms.TextInput.template_name
    write = staticmethod(_input)


class DateInput(_PythonRendered, forms.DateInput):
    default_template = forms.DateInput.template_name
    write = staticmethod(_input)


class CheckboxInput(_PythonRendered, forms.CheckboxInput):
    default_template = forms.CheckboxInput.template_name
    write = staticmethod(_input)


class Select(_PythonRendered, forms.Select):
    default_template = forms.Select.template_name
    write = staticmethod(_select)

    def _other_templates(self) -> bool:
        return self.option_template_name != forms.Select.option_template_name
