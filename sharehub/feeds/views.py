"""The notification list (what happened that involves the person, newest first) and what they follow."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.api import error_body
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.feeds import follows, inbound, live, mail, queries, services, webhooks
from sharehub.feeds.models import Follow, InboundHook, WebhookEndpoint
from sharehub.feeds.templatetags.feeds_tags import follow_button_context
from sharehub.policy.engine import visible_departments
from sharehub.web.redirects import back_to

PAGE_SIZE = 30


@login_required
def notification_list(request):
    unread_only = request.GET.get("unread") == "1"
    topic = request.GET.get("type", "")
    topic = topic if topic in queries.TOPICS else ""
    queryset = queries.notifications_of(request.user, unread_only=unread_only, topic=topic)
    page_obj = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    items = [
        {"n": n, "sentence": sentence, "link": link}
        for n, sentence, link in queries.shown(request.user, page_obj.object_list)
    ]
    topics = [(key, label) for key, (label, _q) in queries.TOPICS.items()]
    context = {"items": items, "page_obj": page_obj, "unread_only": unread_only, "topic": topic, "topics": topics}
    return render(request, "feeds/notifications.html", context)


LATEST = 8


@login_required
def latest(request):
    """The bell's dropdown: the newest notifications."""
    notifications = queries.notifications_of(request.user)[:LATEST]
    items = [
        {"n": n, "sentence": sentence, "link": link} for n, sentence, link in queries.shown(request.user, notifications)
    ]
    return render(request, "feeds/_latest.html", {"items": items})


def stream_once(request):
    """The notification stream where no ASGI server holds it (runserver, WSGI): the state now, then the
    browser reconnects after `retry` (so it polls). Under `sharehub serve` `live.stream` answers instead."""
    if not request.user.is_authenticated:
        return HttpResponse("Sign in first.", status=401, content_type="text/plain")
    return HttpResponse(live.stream_snapshot(request), content_type="text/event-stream; charset=utf-8")


@csrf_exempt  # the signed token in the address is the authority; mail clients post without a CSRF token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """A mail's one-click unsubscribe (RFC 8058): POST stops those emails; GET asks first, since mail
    scanners open links."""
    found = mail.mail_of_token(token)
    if found is None:
        return render(request, "feeds/unsubscribe.html", {"invalid": True}, status=404)
    done = False
    if request.method == "POST":
        mail.unsubscribe(found)
        done = True
    return render(request, "feeds/unsubscribe.html", {"mail": found, "done": done})


@require_POST
@login_required
def mark_read(request, nid=None):
    """Mark one notification (then follow its link, when given) or all of them read."""
    if nid is not None:
        services.mark_read(request.user, [nid])
    else:
        services.mark_read(request.user)
    return back_to(request, reverse("feeds:list"))


def error_sentence(error: Invalid | Forbidden) -> str:
    return " ".join(str(m) for m in error.fields.values()) or str(error.message)


def _follow_fields(request) -> tuple[str, str]:
    return request.POST.get("kind", ""), request.POST.get("target_id", "")


def _answer(request, kind: str, target_id: str, default: str):
    """htmx swaps the button in place; a plain form goes back where it came from."""
    if request.headers.get("HX-Request") == "true":
        context = follow_button_context(request, kind, target_id)
        return render(request, "feeds/_follow.html", context)
    return back_to(request, default)


def _change(request, for_department, for_person):
    """Follow or unfollow from a form: a department's subscription when `department` is posted."""
    kind, target_id = _follow_fields(request)
    department = request.POST.get("department", "")
    try:
        if department:
            for_department(request.user, department, kind, target_id)
        else:
            for_person(request.user, kind, target_id)
    except NotFound:
        raise Http404 from None
    except (Invalid, Forbidden) as error:
        messages.error(request, error_sentence(error))
        return back_to(request, reverse("feeds:following"))
    return _answer(request, kind, target_id, reverse("feeds:following"))


@require_POST
@login_required
def follow(request):
    until = request.POST.get("until")
    delivery = request.POST.get("delivery") or None
    return _change(
        request,
        lambda actor, department, kind, target_id: follows.subscribe_department(
            actor, department, kind, target_id, until=until
        ),
        lambda actor, kind, target_id: follows.follow(actor, kind, target_id, delivery=delivery, until=until),
    )


@require_POST
@login_required
def unfollow(request):
    return _change(request, follows.unsubscribe_department, follows.unfollow)


@login_required
def following(request):
    rows = queries.following(request.user)
    opted_out = {
        (row.follow.kind, row.follow.target_id)
        for row in rows
        if not row.via_department and row.follow.delivery == Follow.Delivery.OFF
    }
    mail_ready = settings.EMAIL_ENABLED and bool((request.user.email or "").strip())
    deliveries = [(value, label) for value, label in Follow.Delivery.choices if value != Follow.Delivery.OFF]
    context = {
        "mail_ready": mail_ready,
        "involved": services.involved_mail(request.user),
        "involved_choices": [(value, label) for value, label in deliveries if value != Follow.Delivery.IN_APP],
        "deliveries": deliveries if mail_ready else [],
        "own": [row for row in rows if not row.via_department],
        "subscribed": [
            {
                "follow": row.follow,
                "label": row.label,
                "link": row.link,
                "via_department": row.via_department,
                "opted_out": (row.follow.kind, row.follow.target_id) in opted_out,
            }
            for row in rows
            if row.via_department
        ],
    }
    return render(request, "feeds/following.html", context)


@require_POST
@login_required
def mail_settings(request):
    try:
        services.set_involved_mail(request.user, request.POST.get("involved", ""))
    except Invalid as error:
        messages.error(request, error_sentence(error))
    else:
        messages.success(request, _("Saved: how what involves you is mailed."))
    return back_to(request, reverse("feeds:following"))


def _endpoint_or_404(request, pk: int):
    try:
        return queries.access_endpoint(request.user, pk)
    except NotFound:
        raise Http404 from None


def _no_store(response):
    response["Cache-Control"] = "no-store"  # a page that may show a signing secret
    return response


@login_required
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    context = {"errors": {}, "form": {}, "event_types": webhooks.EVENT_TYPES, "kinds": WebhookEndpoint.Kind.choices}
    context["departments"] = queries.managed_departments(request.user)
    context["all_departments"] = visible_departments(request.user).order_by("name")
    status = 200
    if request.method == "POST":
        form = {
            "url": request.POST.get("url", ""),
            "description": request.POST.get("description", ""),
            "event_types": request.POST.getlist("event_types"),
            "department": request.POST.get("department", ""),
            "kind": request.POST.get("kind", "standard"),
            "robot_secret": request.POST.get("robot_secret", ""),
            "department_filter": request.POST.getlist("department_filter"),
        }
        try:
            endpoint, secret = webhooks.register(request.user, **form)
        except (Invalid, Forbidden) as error:
            context.update(errors=error.fields or {"url": error.message}, form=form)
            status = 422
        else:
            detail = _webhook_context(request, endpoint)
            return _no_store(render(request, "feeds/webhook.html", {**detail, "secret": secret}))
    context["endpoints"] = queries.endpoints_of(request.user)
    return _no_store(render(request, "feeds/webhooks.html", context, status=status))


def _webhook_context(request, endpoint) -> dict:
    deliveries = Paginator(endpoint.deliveries.select_related("event").order_by("-created_at", "-id"), PAGE_SIZE)
    page_obj = deliveries.get_page(request.GET.get("page"))
    page_obj.object_list = queries.shown_deliveries(request.user, page_obj.object_list)
    return {"endpoint": endpoint, "page_obj": page_obj, "errors": {}}


@login_required
@require_http_methods(["GET", "POST"])
def webhook_detail(request, pk: int):
    endpoint = _endpoint_or_404(request, pk)
    secret, errors = None, {}
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "rotate":
                secret = webhooks.rotate_secret(request.user, endpoint)
            elif action in ("on", "off"):
                webhooks.change(request.user, endpoint, active=action == "on")
            elif action == "redeliver":
                webhooks.redeliver(request.user, endpoint, request.POST.get("delivery", ""))
                messages.success(request, _("Sent again; the log below shows the answer in a moment."))
            else:
                errors = {"action": _("Unknown action.")}
        except NotFound:
            raise Http404 from None
        except (Invalid, Forbidden) as error:
            errors = error.fields or {"action": error.message}
        if secret is None and not errors:
            return back_to(request, reverse("feeds:webhook", args=[endpoint.pk]))
    context = {**_webhook_context(request, endpoint), "secret": secret, "errors": errors}
    return _no_store(render(request, "feeds/webhook.html", context, status=422 if errors else 200))


# ---- inbound webhooks


@login_required
@require_http_methods(["GET", "POST"])
def inbound_list(request):
    context = {
        "errors": {},
        "form": {"action": "progress", "kind": "notice"},
        "accounts": queries.connectable_accounts(request.user),
        "projects": queries.connectable_projects(request.user),
        "datasets": queries.connectable_datasets(request.user),
        "actions": InboundHook.Action.choices,
    }
    status = 200
    if request.method == "POST":
        form = {
            "account": request.POST.get("account", ""),
            "name": request.POST.get("name", ""),
            "action": request.POST.get("action", ""),
            "project": request.POST.get("project", ""),
            "dataset": request.POST.get("dataset", ""),
            "kind": request.POST.get("kind", "notice"),
            "mapping": {name: request.POST.get(f"map_{name}", "") for name in inbound.FIELDS},
        }
        records = request.POST.get("records", "")
        try:
            if form["action"] == InboundHook.Action.RECORDS:
                form["mapping"] = inbound.parse_record_mapping(records)
            hook, token = inbound.create_hook(request.user, **form)
        except (Invalid, Forbidden) as error:
            errors = error.fields or {"account": error.message}
            if form["action"] == InboundHook.Action.RECORDS:  # the dataset's fields are lines of one box
                problems = [f"{name}: {reason}" for name, reason in errors.items() if name not in _FORM_FIELDS]
                errors = {name: reason for name, reason in errors.items() if name in _FORM_FIELDS}
                if problems:
                    errors["records"] = " ".join([errors.get("records", ""), *problems]).strip()
            context.update(errors=errors, form={**form, "records": records})
            status = 422
        else:
            detail = _inbound_context(request, hook)
            address = request.build_absolute_uri(reverse("feeds:inbound_receive", args=[token]))
            return _no_store(render(request, "feeds/inbound_hook.html", {**detail, "address": address}))
    context["hooks"] = queries.inbound_hooks_of(request.user)
    mapping = context["form"].get("mapping", {}) if context["form"].get("action") != InboundHook.Action.RECORDS else {}
    context["mapping_rows"] = [
        {"name": name, "value": mapping.get(name, ""), "error": context["errors"].get(name, ""), "example": example}
        for name, example in _EXAMPLES.items()
    ]
    return _no_store(render(request, "feeds/inbound.html", context, status=status))


_FORM_FIELDS = ("account", "name", "action", "project", "dataset", "kind", "records")
_EXAMPLES = {
    "key": "{issue.id}",
    "title": "{issue.key} {issue.title}",
    "summary": "{issue.status}",
    "body": "{issue.description}",
}


def _inbound_context(request, hook) -> dict:
    deliveries = Paginator(hook.deliveries.select_related("resource").order_by("-received_at", "-id"), PAGE_SIZE)
    return {"hook": hook, "page_obj": deliveries.get_page(request.GET.get("page")), "errors": {}}


@login_required
@require_http_methods(["GET", "POST"])
def inbound_detail(request, pk: int):
    try:
        hook = queries.inbound_hook(request.user, pk)
    except NotFound:
        raise Http404 from None
    if request.method == "POST":
        action = request.POST.get("action", "")
        if action == "delete":
            inbound.delete_hook(request.user, hook)
            messages.success(request, _("The inbound webhook was deleted; its address answers 404 from now on."))
            return back_to(request, reverse("feeds:inbound"))
        if action in ("on", "off"):
            inbound.set_active(request.user, hook, action == "on")
            return back_to(request, reverse("feeds:inbound_hook", args=[hook.pk]))
        context = {**_inbound_context(request, hook), "errors": {"action": _("Unknown action.")}}
        return _no_store(render(request, "feeds/inbound_hook.html", context, status=422))
    return _no_store(render(request, "feeds/inbound_hook.html", _inbound_context(request, hook)))


@csrf_exempt
def inbound_receive(request, token: str):
    """What another system posts to an inbound webhook's address (the token in it is the credential)."""
    if request.method != "POST":
        response = JsonResponse(
            error_body("method_not_allowed", _("Send the JSON with POST.")), status=405, json_dumps_params=_JSON
        )
        response["Allow"] = "POST"
        return response
    declared = request.META.get("CONTENT_LENGTH") or "0"
    if not declared.isdigit() or int(declared) > inbound.MAX_BODY_BYTES or len(request.body) > inbound.MAX_BODY_BYTES:
        too_large = _("At most %(n)s KB of JSON.") % {"n": inbound.MAX_BODY_BYTES // 1024}
        body = error_body("too_large", too_large, {"body": too_large})
        return JsonResponse(body, status=413, json_dumps_params=_JSON)
    answer = inbound.receive(token, request.body, request.headers)
    response = JsonResponse(answer.body, status=answer.status, json_dumps_params=_JSON)
    if answer.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


_JSON = {"ensure_ascii": False}
