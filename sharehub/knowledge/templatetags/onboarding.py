"""`{% first_run_tour %}` (the home page's tour, sharehub.knowledge.tour) and `{% sandbox_banner %}` (every page
of a demo run with `sharehub demo --sandbox`, sharehub.demo.sandbox)."""

from __future__ import annotations

from django import template
from django.template.loader import render_to_string

register = template.Library()


@register.simple_tag(takes_context=True)
def first_run_tour(context) -> str:
    from sharehub.knowledge import tour

    request = context.get("request")
    if request is None:
        return ""
    data = tour.tour_for(request, context.get("create_url") or "")
    if data is None:
        return ""
    return render_to_string("knowledge/help/_tour.html", {"tour": data}, request=request)


@register.simple_tag(takes_context=True)
def sandbox_banner(context) -> str:
    from sharehub.demo import sandbox

    state = sandbox.banner_state()
    if state is None:
        return ""
    return render_to_string("knowledge/help/_sandbox.html", state, request=context.get("request"))
