"""Pages of comments, ratings and "this helped me". Thin: parse, call `sharehub.knowledge.social`, answer.

Every form works without JavaScript (a plain POST, then back to the resource page, or the form again with its
errors, 422) and with htmx (the panel comes back and replaces itself, errors inside it)."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.catalog import queries
from sharehub.catalog.views import page
from sharehub.errors import Forbidden, Invalid
from sharehub.knowledge import social
from sharehub.knowledge.models import Helped
from sharehub.policy.engine import Action
from sharehub.policy.knowledge import CommentAction, FeedbackAction, decide_comment, decide_feedback

PAGE_SIZE = 25


def _partial(request) -> bool:
    return request.headers.get("HX-Request") == "true" and not request.headers.get("HX-History-Restore-Request")


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _back(resource, anchor: str, cpage=None):
    url = reverse("catalog:detail", args=[resource.code])
    if cpage and social.page_number(cpage) > 1:
        url += f"?cpage={social.page_number(cpage)}"
    return redirect(f"{url}#{anchor}")


def _fragment(html: str) -> HttpResponse:
    response = HttpResponse(html)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _comments(request, resource, **extra) -> HttpResponse:
    page_number = social.page_number(request.POST.get("cpage") or request.GET.get("cpage"))
    context = social.comments_context(request, resource, page_number, **extra)
    return render(request, "knowledge/social/_comments.html", context)


def _feedback(request, resource, **extra) -> HttpResponse:
    return _fragment(social.feedback_panel(request, resource, **extra))


def _form_page(request, resource, kind: str, *, comment=None, errors=None, values=None, status=200):
    context = {
        "resource": resource,
        "kind": kind,
        "comment": comment,
        "errors": errors or {},
        "values": values or {},
        "max_body": social.MAX_BODY,
        "max_reason": social.MAX_HIDE_REASON if kind == "hide" else social.MAX_RATING_REASON,
        "max_note": social.MAX_NOTE,
        "cpage": request.POST.get("cpage") or request.GET.get("cpage") or "",
    }
    return render(request, "knowledge/social/form.html", context, status=status)


def _mention_notices(mentions) -> list[str]:
    notices = []
    if mentions.ambiguous:
        notices.append(
            _("%(names)s matches several people, so nobody was told; mention them by login name.")
            % {"names": ", ".join(f"@{n}" for n in mentions.ambiguous)}
        )
    return notices


def _tell(request, notices: list[str], success: str) -> None:
    messages.success(request, success)
    for notice in notices:
        messages.warning(request, notice)


# --- comments -------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@page
def comments(request, ident):
    """GET: the comments panel (htmx; without it, the resource page at that page of comments). POST: write a
    comment, or a reply (`parent`)."""
    resource = queries.access_resource(request.user, ident, Action.READ)
    if request.method != "POST":
        if _partial(request):
            return _comments(request, resource)
        return _back(resource, "comments", request.GET.get("cpage"))
    body, parent = request.POST.get("body", ""), request.POST.get("parent") or None
    kind = "reply" if parent else "comment"
    try:
        written = social.add_comment(request.user, resource, body, parent)
    except Invalid as error:
        errors = error.fields or {"body": error.message}
        if _partial(request):
            return _comments(request, resource, error_for=kind, error_id=parent, errors=errors, submitted=body)
        return _form_page(request, resource, kind, errors=errors, values={"body": body, "parent": parent}, status=422)
    notices = _mention_notices(written.mentions)
    if _partial(request):
        return _comments(request, resource, notices=[_("Comment added."), *notices])
    _tell(request, notices, _("Comment added."))
    return _back(resource, f"comment-{written.comment.pk}", request.POST.get("cpage"))


def _comment(request, ident, cid):
    resource = queries.access_resource(request.user, ident, Action.READ)
    return resource, social.comment_of(request.user, resource, cid)


@require_http_methods(["GET", "HEAD", "POST"])
@page
def comment_edit(request, ident, cid):
    resource, comment = _comment(request, ident, cid)
    if request.method != "POST":
        _require(decide_comment(request.user, CommentAction.EDIT, resource, comment))
        return _form_page(request, resource, "edit", comment=comment, values={"body": comment.body})
    body = request.POST.get("body", "")
    try:
        written = social.edit_comment(request.user, comment, body)
    except Invalid as error:
        errors = error.fields or {"body": error.message}
        return _form_page(request, resource, "edit", comment=comment, errors=errors, values={"body": body}, status=422)
    _tell(request, _mention_notices(written.mentions), _("Comment saved."))
    return _back(resource, f"comment-{comment.pk}", request.POST.get("cpage"))


@require_http_methods(["GET", "HEAD", "POST"])
@page
def comment_hide(request, ident, cid):
    resource, comment = _comment(request, ident, cid)
    if request.method != "POST":
        _require(decide_comment(request.user, CommentAction.HIDE, resource, comment))
        return _form_page(request, resource, "hide", comment=comment)
    reason = request.POST.get("reason", "")
    try:
        social.hide_comment(request.user, comment, reason)
    except Invalid as error:
        errors = error.fields or {"reason": error.message}
        values = {"reason": reason}
        return _form_page(request, resource, "hide", comment=comment, errors=errors, values=values, status=422)
    if _partial(request):
        return _comments(request, resource, notices=[_("Comment hidden.")])
    messages.success(request, _("Comment hidden; its author is told why."))
    return _back(resource, f"comment-{comment.pk}", request.POST.get("cpage"))


@require_POST
@page
def comment_show(request, ident, cid):
    resource, comment = _comment(request, ident, cid)
    social.unhide_comment(request.user, comment)
    if _partial(request):
        return _comments(request, resource, notices=[_("Comment shown again.")])
    messages.success(request, _("Comment shown again."))
    return _back(resource, f"comment-{comment.pk}", request.POST.get("cpage"))


# --- ratings and "this helped me" ---------------------------------------------------------------------------


@require_POST
@page
def rating(request, ident):
    resource = queries.access_resource(request.user, ident)
    if request.POST.get("action") == "clear":
        social.clear_rating(request.user, resource)
        done = _("Your rating is removed.")
    else:
        useful, reason = request.POST.get("useful", ""), request.POST.get("reason", "")
        try:
            social.set_rating(request.user, resource, useful, reason)
        except Invalid as error:
            errors = error.fields or {"useful": error.message}
            values = {"useful": useful, "reason": reason}
            if _partial(request):
                return _feedback(request, resource, error_for="rating", errors=errors, values=values)
            return _form_page(request, resource, "rating", errors=errors, values=values, status=422)
        done = _("Thank you for rating.")
    if _partial(request):
        return _feedback(request, resource, notices=[done])
    messages.success(request, done)
    return _back(resource, "feedback")


@require_http_methods(["GET", "HEAD", "POST"])
@page
def helped(request, ident):
    """GET: everyone it helped, with what for (readers). POST: mark that it helped you."""
    resource = queries.access_resource(request.user, ident)
    if request.method != "POST":
        _require(decide_feedback(request.user, FeedbackAction.SEE, resource))
        marks = Helped.objects.filter(resource_id=resource.pk).select_related("user").order_by("-created_at", "-pk")
        page_obj = Paginator(marks, PAGE_SIZE).get_page(request.GET.get("page"))
        return render(request, "knowledge/social/helped.html", {"resource": resource, "page_obj": page_obj})
    note = request.POST.get("note", "")
    try:
        social.mark_helped(request.user, resource, note)
    except Invalid as error:
        errors = error.fields or {"note": error.message}
        if _partial(request):
            return _feedback(request, resource, error_for="helped", errors=errors, values={"note": note})
        return _form_page(request, resource, "helped", errors=errors, values={"note": note}, status=422)
    done = _("Thank you: its authors are told it helped you.")
    if _partial(request):
        return _feedback(request, resource, notices=[done])
    messages.success(request, done)
    return _back(resource, "feedback")


@require_POST
@page
def helped_withdraw(request, ident):
    resource = queries.access_resource(request.user, ident)
    social.withdraw_helped(request.user, resource)
    done = _("Your “this helped me” is withdrawn.")
    if _partial(request):
        return _feedback(request, resource, notices=[done])
    messages.success(request, done)
    return _back(resource, "feedback")
