"""`{% follow_button kind target_id %}`: follow or unfollow something where it is shown."""

from __future__ import annotations

from django import template

from sharehub.feeds import queries
from sharehub.feeds.models import Follow
from sharehub.policy.engine import context_for

register = template.Library()


def follow_button_context(request, kind: str, target_id) -> dict:
    state = queries.follow_state(request.user, kind, int(target_id))
    managed = []
    if kind != Follow.Kind.SEARCH:  # a saved search is one person's: no department subscribes to it
        managed = queries.managed_subscriptions(kind, int(target_id), context_for(request.user).manager_department_ids)
    context = {"request": request, "kind": kind, "target_id": target_id, "state": state, "managed": managed}
    if kind == Follow.Kind.SEARCH:
        context["label"] = queries.saved_search_name(request.user, int(target_id))
    return context


@register.inclusion_tag("feeds/_follow.html", takes_context=True)
def follow_button(context, kind: str, target_id) -> dict:
    return {**follow_button_context(context["request"], kind, target_id), "csrf_token": context.get("csrf_token")}
