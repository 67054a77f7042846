"""Where a form sends the person back to: its `next` field, when that is a path on this site."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def back_to(request: HttpRequest, default: str) -> HttpResponseRedirect:
    """Redirect to the POSTed `next` if it is a path on this site, else to the URL `default`.

    Only a path starting with one slash is followed (not `//host`, `/\\host`, a scheme, or a bare word,
    which Django's `redirect()` would try to reverse as a view name)."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return HttpResponseRedirect(target)
    return HttpResponseRedirect(default)
