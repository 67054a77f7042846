"""The organization admins' console under /manage/: the department tree, people, people imports, the
handover when someone leaves, service accounts, and sign-in attempts. Each page is its own module with its
views and `urlpatterns`; the rules they apply live in the org app's services."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import Http404

from sharehub.errors import NotFound
from sharehub.policy.engine import OrgAction, can


def admin_page(view):
    """Signed in and an organization admin (the policy's org.manage); anyone else gets 404, as if the page did
    not exist. A NotFound raised by the page's queries is a 404 too."""

    @login_required
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can(request.user, OrgAction.MANAGE_ORG):
            raise Http404
        try:
            return view(request, *args, **kwargs)
        except NotFound:
            raise Http404 from None

    return wrapped
