from __future__ import annotations

from sharehub.policy.engine import OrgAction, can


def navigation(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "nav_can_audit": bool(can(user, OrgAction.READ_AUDIT)),
        "nav_can_admin": bool(can(user, OrgAction.ADMIN_SITE)),
    }
