"""`{% help_link "topic" %}`: the contextual "?" link beside a form or field, to a help page."""

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def help_link(topic: str, label: str = "") -> str:
    url = reverse("knowledge:help-page", args=[topic])
    text = label or _("Help")
    return format_html(
        '<a class="sh-help-link link-secondary text-decoration-none" href="{}" target="_blank" rel="noopener"'
        ' title="{}" aria-label="{}"><i class="bi bi-question-circle" aria-hidden="true"></i></a>',
        url,
        text,
        text,
    )
