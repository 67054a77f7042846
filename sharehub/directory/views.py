"""Directory sign-in pages: OpenID Connect sign-in and its callback, sign-out (at the provider too), and the
mapping rules page for organization admins."""

from __future__ import annotations

import logging
from types import SimpleNamespace

import requests
from authlib.common.errors import AuthlibBaseError
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from sharehub.directory import oidc, queries, services
from sharehub.directory.models import MappingRule
from sharehub.errors import Invalid, NotFound
from sharehub.org.models import Membership

logger = logging.getLogger(__name__)

SESSION_BACKEND = "sharehub.directory.backends.DirectoryBackend"
try:  # Authlib checks ID tokens with joserfc since 1.6
    from joserfc.errors import JoseError
except ImportError:  # pragma: no cover
    JoseError = AuthlibBaseError
# What a provider that is down, misconfigured or answering something unverifiable makes Authlib raise.
_PROVIDER_ERRORS = (requests.RequestException, AuthlibBaseError, JoseError, ValueError, KeyError, RuntimeError)


def _absolute(request, path: str) -> str:
    return settings.SITE_URL + path if settings.SITE_URL else request.build_absolute_uri(path)


def _oidc_settings():
    cfg = settings.DIRECTORY_OIDC
    if cfg is None:
        raise Http404
    return cfg


def _refuse(request, message: str):
    messages.error(request, message)
    return redirect("login")


@require_GET
def oidc_login(request):
    """Off to the provider's sign-in page, with state, nonce and a PKCE challenge kept in the session."""
    cfg = _oidc_settings()
    wanted = request.GET.get("next", "")
    safe = url_has_allowed_host_and_scheme(wanted, {request.get_host()}, require_https=request.is_secure())
    request.session[oidc.NEXT_KEY] = wanted if wanted and safe else ""
    try:
        return oidc.client(cfg).authorize_redirect(request, _absolute(request, reverse("directory:oidc_callback")))
    except _PROVIDER_ERRORS as error:
        logger.warning("OpenID Connect provider %s cannot be reached: %s", cfg.discovery_url, error)
        return _refuse(
            request,
            _("%(label)s cannot be reached just now. Try again in a few minutes, or sign in with your password.")
            % {"label": cfg.label},
        )


@require_GET
def oidc_callback(request):
    """Back from the provider: the code exchanged (with the PKCE verifier), the ID token checked (signature,
    issuer, audience, nonce), the person made or updated by the mapping rules, and signed in."""
    cfg = _oidc_settings()
    try:
        app = oidc.client(cfg)
        token = app.authorize_access_token(request)
        claims = dict(token.get("userinfo") or {})
        if not claims.get("sub"):
            raise ValueError("the provider sent no ID token")
        if app.load_server_metadata().get("userinfo_endpoint"):
            extra = app.userinfo(token=token)
            if extra.get("sub") == claims["sub"]:
                claims = {**extra, **claims}
    except _PROVIDER_ERRORS as error:
        logger.warning("OpenID Connect sign-in refused: %s", error)
        return _refuse(
            request,
            _("Sign-in with %(label)s did not succeed: %(reason)s")
            % {
                "label": cfg.label,
                "reason": _("the answer from the provider could not be verified; start again."),
            },
        )
    identity = oidc.identity(cfg, claims)
    if not identity.username:
        logger.warning("OpenID Connect claims lack %r: %s", cfg.username_claim, sorted(claims))
        return _refuse(
            request,
            _("%(label)s did not say who you are (no %(claim)s); ask your IT department.")
            % {"label": cfg.label, "claim": cfg.username_claim},
        )
    try:
        user = services.provision(identity).user
    except services.Refused as error:
        return _refuse(
            request,
            _("You cannot sign in here with %(label)s: %(reason)s")
            % {
                "label": cfg.label,
                "reason": error,
            },
        )
    if not user.is_active:
        return _refuse(request, _("Your Sharehub account is deactivated; ask an organization admin."))
    wanted = request.session.pop(oidc.NEXT_KEY, "")
    login(request, user, backend=SESSION_BACKEND)
    request.session[oidc.ID_TOKEN_KEY] = token.get("id_token", "")
    return redirect(wanted or settings.LOGIN_REDIRECT_URL)


class LogoutView(auth_views.LogoutView):
    """Django's sign-out; a session begun with OpenID Connect is also ended at the provider when it offers
    RP-initiated logout (its discovery names an end_session_endpoint) and SHAREHUB_OIDC_LOGOUT is on."""

    def post(self, request, *args, **kwargs):
        id_token = request.session.get(oidc.ID_TOKEN_KEY, "")
        response = super().post(request, *args, **kwargs)
        cfg = settings.DIRECTORY_OIDC
        if not id_token or cfg is None or not cfg.logout:
            return response
        try:
            app = oidc.client(cfg)
            if not app.load_server_metadata().get("end_session_endpoint"):
                return response
            return app.logout_redirect(
                request, post_logout_redirect_uri=_absolute(request, reverse("login")), id_token_hint=id_token
            )
        except _PROVIDER_ERRORS as error:
            logger.warning("OpenID Connect logout at the provider skipped: %s", error)
            return response


def sign_in_options() -> dict:
    """What the sign-in page shows beside the password form."""
    cfg = settings.DIRECTORY_OIDC
    return {"oidc_label": cfg.label if cfg is not None else ""}


# --- mapping rules (organization admins) -----------------------------------------------------------------


def _rule_form(request) -> dict:
    return {
        "kind": request.POST.get("kind", MappingRule.Kind.GROUP),
        "attribute": request.POST.get("attribute", ""),
        "value": request.POST.get("value", ""),
        "department": request.POST.get("department", ""),
        "role": request.POST.get("role", Membership.Role.MEMBER),
        "is_active": request.POST.get("is_active") == "on",
    }


def _choices() -> dict:
    return {
        "kinds": MappingRule.Kind.choices,
        "roles": Membership.Role.choices,
        "ldap_on": settings.DIRECTORY_LDAP is not None,
        "oidc_label": settings.DIRECTORY_OIDC.label if settings.DIRECTORY_OIDC is not None else "",
        "local_passwords": settings.DIRECTORY_LOCAL_PASSWORDS,
        "sync_minutes": settings.DIRECTORY_SYNC_MINUTES,
    }


@login_required
@require_http_methods(["GET", "POST"])
def rules(request):
    try:
        page = queries.rules_page(request.user)
    except NotFound:
        raise Http404 from None
    context = {"page": page, "errors": {}, "form": {"kind": "group", "role": "member", "is_active": True}, **_choices()}
    if request.method == "POST":
        form = _rule_form(request)
        try:
            rule = services.create_rule(request.user, **form)
        except Invalid as error:
            context.update(errors=error.fields, form=form)
        else:
            messages.success(request, _("Rule added: %(rule)s") % {"rule": rule})
            return redirect("directory:rules")
    return render(request, "directory/rules.html", context, status=422 if context["errors"] else 200)


@login_required
@require_http_methods(["GET", "POST"])
def rule_edit(request, pk: int):
    try:
        rule = queries.access_rule(request.user, pk)
    except NotFound:
        raise Http404 from None
    form = {
        "kind": rule.kind,
        "attribute": rule.attribute,
        "value": rule.value,
        "department": str(rule.department_id),
        "role": rule.role,
        "is_active": rule.is_active,
    }
    errors = {}
    if request.method == "POST":
        form = _rule_form(request)
        try:
            services.update_rule(request.user, rule, **form)
        except Invalid as error:
            errors = error.fields
        else:
            messages.success(request, _("Rule saved."))
            return redirect("directory:rules")
    context = {
        "rule": rule,
        "form": form,
        "errors": errors,
        "departments": queries.rules_page(request.user).departments,
        **_choices(),
    }
    return render(request, "directory/rule_edit.html", context, status=422 if errors else 200)


@login_required
@require_POST
def rule_delete(request, pk: int):
    try:
        rule = queries.access_rule(request.user, pk)
    except NotFound:
        raise Http404 from None
    services.delete_rule(request.user, rule)
    messages.success(request, _("Rule deleted. Memberships it gave change at each person's next sign-in or sync."))
    return redirect("directory:rules")


@login_required
@require_POST
def rule_move(request, pk: int):
    try:
        rule = queries.access_rule(request.user, pk)
        services.move_rule(request.user, rule, request.POST.get("direction", ""))
    except NotFound:
        raise Http404 from None
    except Invalid as error:
        messages.error(request, " ".join(str(v) for v in error.fields.values()))
    return redirect("directory:rules")


@login_required
@require_GET
def rule_preview(request):
    """Who a rule would match (htmx fragment, or a page without script): `?rule=<id>` for a saved rule, or the
    form's kind, attribute and value."""
    try:
        if request.GET.get("rule", "").isdigit():
            rule = queries.access_rule(request.user, int(request.GET["rule"]))
        else:
            rule = SimpleNamespace(
                kind=request.GET.get("kind", "group"),
                attribute=request.GET.get("attribute", "")[:100],
                value=request.GET.get("value", "")[:500],
            )
        found = queries.preview(request.user, rule)
    except NotFound:
        raise Http404 from None
    template = "directory/_preview.html" if request.headers.get("HX-Request") else "directory/preview.html"
    return render(request, template, {"preview": found, "rule": rule})
