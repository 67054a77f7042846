from __future__ import annotations

from sharehub.access import queries as access_queries
from sharehub.catalog import queries as catalog_queries
from sharehub.feeds import queries as feeds_queries
from sharehub.policy.engine import OrgAction, can, context_for, reviews_anywhere


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    ctx = context_for(user)
    is_decider = ctx.is_admin or bool(ctx.manager_department_ids)
    is_reviewer = reviews_anywhere(user)
    return {
        "nav_can_audit": bool(can(user, OrgAction.READ_AUDIT)),
        "nav_can_admin": bool(can(user, OrgAction.ADMIN_SITE)),
        "nav_is_decider": is_decider,
        "nav_inbox_count": access_queries.inbox(user).count() if is_decider else 0,
        "nav_is_reviewer": is_reviewer,
        # counted only when a page shows the navigation (a template calls it), never for htmx fragments
        "nav_review_count": (lambda: catalog_queries.review_queue(user).count()) if is_reviewer else 0,
        "nav_unread": feeds_queries.unread_count(user),
    }
