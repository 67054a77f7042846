"""Template helpers for the access process on pages other apps own (the resource page and its
explanation): may the person request this resource, and do they have an open request already."""

from __future__ import annotations

from django import template

from sharehub.access import queries
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
