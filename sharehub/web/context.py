from __future__ import annotations

from sharehub.access import queries as access_queries
from sharehub.feeds import queries as feeds_queries
from sharehub.policy.engine import OrgAction, can, context_for


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    ctx = context_for(user)
    is_decider = ctx.is_admin or bool(ctx.manager_department_ids)
    return {
        "nav_can_audit": bool(can(user, OrgAction.READ_AUDIT)),
        "nav_can_admin": bool(can(user, OrgAction.ADMIN_SITE)),
        "nav_is_decider": is_decider,
        "nav_inbox_count": access_queries.inbox(user).count() if is_decider else 0,
        "nav_unread": feeds_queries.unread_count(user),
    }
