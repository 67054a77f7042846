from __future__ import annotations

from collections.abc import Callable
from functools import cache

from sharehub.access import queries as access_queries
from sharehub.catalog import queries as catalog_queries
from sharehub.feeds import queries as feeds_queries
from sharehub.policy.engine import OrgAction, can, context_for, reviews_anywhere


def _when_shown(count: Callable[[], int]) -> Callable[[], int]:
    """A count that runs its query only if a template shows it, and once however often it is shown:
    htmx fragments and pages without the navigation pay nothing for it."""
    return cache(count)


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
        "nav_can_manage_org": bool(can(user, OrgAction.MANAGE_ORG)),  # organization admins' pages (directory sign-in)
        "nav_is_decider": is_decider,
        "nav_inbox_count": _when_shown(lambda: access_queries.inbox(user).count()) if is_decider else 0,
        "nav_is_reviewer": is_reviewer,
        "nav_review_count": _when_shown(lambda: catalog_queries.review_queue(user).count()) if is_reviewer else 0,
        "nav_unread": _when_shown(lambda: feeds_queries.unread_count(user)),
    }
