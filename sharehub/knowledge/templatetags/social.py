"""`{% social_panels resource %}`: the "was it useful / this helped me" and comments panels of a resource, for
pages other than the catalog's (which gets them through `sharehub.catalog.panels`), such as an article's."""

from django import template
from django.utils.safestring import mark_safe

from sharehub.knowledge import social

register = template.Library()


@register.simple_tag(takes_context=True)
def social_panels(context, resource) -> str:
    request = context["request"]
    # both panels are rendered templates whose every value is escaped by the template engine
    return mark_safe(social.feedback_panel(request, resource) + social.comments_panel(request, resource))
