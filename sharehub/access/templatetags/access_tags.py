"""Template helpers for the access process: on pages other apps own (the resource page and its
explanation), may the person request this resource and do they have an open request already; on
its own pages, how dataset fields read."""

from __future__ import annotations

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from sharehub.access import fields, queries
from sharehub.policy.engine import ProcessAction, can

register = template.Library()


@register.simple_tag
def request_decision(user, resource):
    """The policy's decision on requesting `resource` (allowed or not, and why)."""
    return can(user, ProcessAction.REQUEST, resource)


@register.simple_tag
def open_request(user, resource):
    """The person's open request for `resource`, or None."""
    return queries.my_requests(user, queries.RequestFilters(status="open", resource=resource.pk)).first()


@register.simple_tag
def dataset_fields(resource, names, badge: bool = True) -> SafeString:
    """Fields of a request or grant, one a line, as "label (column_name)" with their sensitivity."""
    rendered = ((fields.render(f, badge=badge),) for f in fields.describe(resource, names))
    items = format_html_join("", "<li>{}</li>", rendered)
    return format_html('<ul class="list-unstyled mb-0 sh-field-list">{}</ul>', items)
