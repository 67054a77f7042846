"""Comments, useful/not useful ratings and "this helped me" on catalog resources (articles included).

Services: every write validates, asks the policy (`sharehub.policy.knowledge`), changes rows and records its
event in one transaction. Reads: the rows of one resource the caller may read, in a fixed number of queries.

Comment bodies are plain text: escaped, line breaks kept, web addresses linked (`rel="nofollow noopener"`),
`@mentions` marked. Threads are at most two replies deep: a reply to a second-level reply joins its
first-level thread and names whom it answers with an @mention (so deeper replies are flattened under their
thread, and the page finds a thread's replies in one query).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import escape, urlize
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sharehub.catalog import panels
from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.knowledge import points
from sharehub.knowledge.models import Comment, Credit, Helped, Rating
from sharehub.policy.engine import Action, can
from sharehub.policy.knowledge import CommentAction, FeedbackAction, decide_comment, decide_feedback
from sharehub.validation import parse_id, text_problem

MAX_BODY = 5000
MAX_HIDE_REASON = 300
MAX_RATING_REASON = 500
MAX_NOTE = 500
MAX_MENTIONS = 20  # people notified by one comment at most
COMMENTS_PER_PAGE = 20  # threads (first-level comments) per page
RECENT_NOTES = 5
RECENT_REASONS = 20

# Control characters other than line breaks and tabs, and the invisible bidirectional overrides that make
# text read differently from what it is: removed. NUL and unpaired surrogates are refused (validation).
_INVISIBLE = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")
# "@name" where it starts a word: after the start, a space or punctuation, never inside an address or URL.
_MENTION = re.compile(r"(?<![^\s(（\[【,，。;；:：!！?？\"'“‘、])@([\w][\w.+\-]{0,149})")
_CJK = re.compile(r"[\u3400-\u9fff]")


# --- text -------------------------------------------------------------------------------------------------


def clean_text(errors: dict, name: str, value, *, limit: int, required: bool) -> str:
    """A text field: NUL and broken Unicode refused, invisible control characters removed, line ends unified,
    stripped, required and at most `limit` characters; a problem goes into `errors[name]`."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors[name] = _("Must be text.")
        return ""
    problem = text_problem(value)
    if problem:
        errors[name] = problem
        return ""
    value = _INVISIBLE.sub("", value.replace("\r\n", "\n").replace("\r", "\n")).strip()
    if required and not value:
        errors[name] = _("This field is required.")
    elif len(value) > limit:
        errors[name] = _("At most %(n)s characters.") % {"n": limit}
    return value


def _check(errors: dict) -> None:
    if errors:
        raise Invalid(fields=errors)


def body_html(text: str) -> SafeString:
    """A comment's text as HTML: every piece escaped (urlize escapes what it does not link), addresses
    linked with rel="nofollow", @mentions marked, line breaks kept."""
    parts, last = [], 0
    for found in _MENTION.finditer(text):
        parts.append(urlize(text[last : found.start()], nofollow=True, autoescape=True))
        parts.append(f'<span class="sh-mention text-primary">@{escape(_trimmed(found.group(1)))}</span>')
        last = found.start() + 1 + len(_trimmed(found.group(1)))
    parts.append(urlize(text[last:], nofollow=True, autoescape=True))
    html = "".join(parts).replace(' rel="nofollow"', ' rel="nofollow noopener noreferrer"')
    return mark_safe(html.replace("\n", "<br>"))  # built from escaped pieces only


def _trimmed(token: str) -> str:
    return token.rstrip(".+-")


# --- mentions -----------------------------------------------------------------------------------------------


@dataclass
class Mentions:
    people: list = field(default_factory=list)  # User rows, in the order first mentioned
    ambiguous: list[str] = field(default_factory=list)  # names several people have
    unknown: list[str] = field(default_factory=list)


def _prefixes(token: str) -> list[str]:
    """A Chinese name followed by more text without a space ("@张三你好"): its 2 to 4 character beginnings."""
    if not _CJK.match(token):
        return []
    return [token[:n] for n in range(min(len(token) - 1, 4), 1, -1)]


def find_mentions(text: str) -> Mentions:
    """The people `text` @mentions, by login name, or by display name when exactly one active person has it
    (a Chinese name may be followed by text without a space). One query."""
    tokens = []
    for found in _MENTION.finditer(text):
        token = _trimmed(found.group(1))
        if token and token not in tokens:
            tokens.append(token)
    result = Mentions()
    if not tokens:
        return result
    tokens = tokens[: MAX_MENTIONS * 3]
    wanted = set(tokens) | {p for t in tokens for p in _prefixes(t)}
    User = get_user_model()
    rows = list(
        User.objects.filter(is_active=True, kind=User.Kind.PERSON)
        .filter(Q(username__in=wanted) | Q(display_name__in=wanted))
        .only("pk", "username", "display_name")[:500]
    )
    by_username = {u.username: u for u in rows}
    by_name: dict[str, list] = {}
    for u in rows:
        if u.display_name:
            by_name.setdefault(u.display_name, []).append(u)
    seen: set[int] = set()
    for token in tokens:
        person = by_username.get(token)
        if person is None:
            for name in (token, *_prefixes(token)):
                holders = by_name.get(name, [])
                if len(holders) == 1:
                    person = holders[0]
                    break
                if len(holders) > 1:
                    result.ambiguous.append(name)
                    break
            else:
                result.unknown.append(token)
        if person is not None and person.pk not in seen:
            seen.add(person.pk)
            result.people.append(person)
    return result


def _readers(people, resource: Resource) -> list[int]:
    """The ids of those of `people` who may read `resource`'s content (and so its comments)."""
    return [p.pk for p in people if can(p, Action.READ, resource)]


# --- fetching -----------------------------------------------------------------------------------------------


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def comment_of(actor, resource: Resource, comment_id) -> Comment:
    """One comment of `resource` the actor may read (the resource's content), or NotFound / Forbidden."""
    _require(decide_comment(actor, CommentAction.WRITE, resource))  # reading comments is reading the content
    pk = parse_id(comment_id)
    found = (
        Comment.objects.filter(pk=pk, resource_id=resource.pk).select_related("author", "hidden_by", "parent").first()
        if pk is not None
        else None
    )
    if found is None:
        raise NotFound()
    found.resource = resource
    return found


def _departments(resource: Resource) -> list[int]:
    return [resource.owner_department_id]


def _base_details(resource: Resource) -> dict:
    return {"code": resource.code, "title": resource.title, "resource_id": resource.pk}


# --- comments -----------------------------------------------------------------------------------------------


@dataclass
class Written:
    comment: Comment
    mentions: Mentions


def _mention_events(actor, resource: Resource, comment: Comment, mentions: Mentions, already=()) -> None:
    """Tell the mentioned people who may read the resource (never the others: the comment is its content)."""
    people = [p for p in mentions.people if p.pk not in set(already) and p.pk != getattr(actor, "pk", None)]
    readers = _readers(people[:MAX_MENTIONS], resource)
    if readers:
        record(
            actor,
            "comment.mentioned",
            resource,
            departments=_departments(resource),
            details={**_base_details(resource), "comment": comment.pk, "mentioned": readers, "recipients": readers},
        )


def add_comment(actor, resource: Resource, body, parent=None) -> Written:
    """Comment on `resource`, or reply to `parent` (a comment of it). The resource's steward, the author of
    the comment answered and the @mentioned people are told, if they may read the resource."""
    _require(decide_comment(actor, CommentAction.WRITE, resource))
    errors: dict = {}
    text = clean_text(errors, "body", body, limit=MAX_BODY, required=True)
    if parent is not None and not isinstance(parent, Comment):
        try:
            parent = comment_of(actor, resource, parent)
        except NotFound:
            parent = None
            errors["parent"] = _("Reply to a comment of this resource.")
    if parent is not None and parent.hidden_at is not None:
        errors["parent"] = _("A hidden comment cannot be replied to.")
    _check(errors)
    answered = parent
    if parent is not None and parent.parent_id is not None and parent.parent.parent_id is not None:
        # a reply to a second-level reply joins the first-level thread, naming whom it answers
        parent = parent.parent
        if answered.author is not None and f"@{answered.author.username}" not in text:
            text = f"@{answered.author.username} {text}"
    mentions = find_mentions(text)
    with transaction.atomic():
        comment = Comment.objects.create(resource=resource, parent=parent, author=actor, body=text)
        forget_counts(resource)
        comment.resource = resource
        told = {resource.steward_id, answered.author_id if answered is not None else None} - {None, actor.pk}
        told -= {p.pk for p in mentions.people}  # they hear of it as a mention
        User = get_user_model()
        recipients = _readers(User.objects.filter(pk__in=told, is_active=True), resource) if told else []
        record(
            actor,
            "comment.created",
            resource,
            departments=_departments(resource),
            details={
                **_base_details(resource),
                "comment": comment.pk,
                "reply": parent is not None,
                "recipients": recipients,
            },
        )
        _mention_events(actor, resource, comment, mentions)
    return Written(comment, mentions)


def edit_comment(actor, comment: Comment, body) -> Written:
    """The author changes their comment's text; people newly @mentioned are told."""
    resource = comment.resource
    _require(decide_comment(actor, CommentAction.EDIT, resource, comment))
    errors: dict = {}
    text = clean_text(errors, "body", body, limit=MAX_BODY, required=True)
    _check(errors)
    mentions = find_mentions(text)
    if text == comment.body:
        return Written(comment, mentions)
    before = {p.pk for p in find_mentions(comment.body).people}
    with transaction.atomic():
        comment.body = text
        comment.edited_at = timezone.now()
        comment.save(update_fields=["body", "edited_at"])
        record(
            actor,
            "comment.edited",
            resource,
            departments=_departments(resource),
            details={**_base_details(resource), "comment": comment.pk},
        )
        _mention_events(actor, resource, comment, mentions, already=before)
    return Written(comment, mentions)


def hide_comment(actor, comment: Comment, reason) -> Comment:
    """Those who manage the resource hide a comment, saying why: everyone then sees "hidden by a steward:
    <reason>"; the text stays readable to moderators and its author. The author is told."""
    resource = comment.resource
    _require(decide_comment(actor, CommentAction.HIDE, resource, comment))
    errors: dict = {}
    text = clean_text(errors, "reason", reason, limit=MAX_HIDE_REASON, required=True)
    _check(errors)
    with transaction.atomic():
        forget_counts(resource)
        comment.hidden_at = timezone.now()
        comment.hidden_by = actor
        comment.hidden_reason = text
        comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        record(
            actor,
            "comment.hidden",
            resource,
            departments=_departments(resource),
            details={
                **_base_details(resource),
                "comment": comment.pk,
                "author": comment.author_id,
                "reason": text,
                "recipients": [comment.author_id] if comment.author_id else [],
            },
        )
    return comment


def unhide_comment(actor, comment: Comment) -> Comment:
    """Show a hidden comment again (a moderator's mistake undone)."""
    resource = comment.resource
    _require(decide_comment(actor, CommentAction.HIDE, resource, comment))
    if comment.hidden_at is None:
        return comment
    with transaction.atomic():
        comment.hidden_at, comment.hidden_by, comment.hidden_reason = None, None, ""
        comment.save(update_fields=["hidden_at", "hidden_by", "hidden_reason"])
        record(
            actor,
            "comment.shown",
            resource,
            departments=_departments(resource),
            details={**_base_details(resource), "comment": comment.pk, "author": comment.author_id},
        )
    return comment


# --- ratings ------------------------------------------------------------------------------------------------


def _useful(errors: dict, value) -> bool | None:
    if isinstance(value, bool):
        return value
    if value in ("yes", "true", "1", "useful"):
        return True
    if value in ("no", "false", "0", "not_useful"):
        return False
    errors["useful"] = _("Say whether it was useful.")
    return None


def set_rating(actor, resource: Resource, useful, reason="") -> Rating:
    """Rate a resource useful or not (a reason is required for "not useful"); one rating per person per
    resource, changed by rating again."""
    _require(decide_feedback(actor, FeedbackAction.RATE, resource))
    errors: dict = {}
    verdict = _useful(errors, useful)
    text = clean_text(errors, "reason", reason, limit=MAX_RATING_REASON, required=verdict is False)
    if verdict is False and "reason" in errors and not text:
        errors["reason"] = _("Say why it was not useful, so that its steward can improve it.")
    _check(errors)
    with transaction.atomic():
        forget_counts(resource)
        rating, created = Rating.objects.select_for_update().get_or_create(
            resource=resource, user=actor, defaults={"useful": verdict, "reason": text}
        )
        if not created:
            if rating.useful == verdict and rating.reason == text:
                return rating
            rating.useful, rating.reason = verdict, text
            rating.save(update_fields=["useful", "reason", "updated_at"])
        record(
            actor,
            "rating.set",
            resource,
            departments=_departments(resource),
            details={**_base_details(resource), "useful": verdict, "reason": text, "changed": not created},
        )
    return rating


def clear_rating(actor, resource: Resource) -> bool:
    _require(decide_feedback(actor, FeedbackAction.RATE, resource))
    with transaction.atomic():
        forget_counts(resource)
        deleted, _rows = Rating.objects.filter(resource=resource, user=actor).delete()
        if deleted:
            details = _base_details(resource)
            record(actor, "rating.cleared", resource, departments=_departments(resource), details=details)
    return bool(deleted)


# --- "this helped me" -------------------------------------------------------------------------------------


def mark_helped(actor, resource: Resource, note="") -> Helped:
    """Record that the resource helped the actor, with what they used it for (optional); its owners are told,
    and recognition credits them when the actor is of another department (sharehub.knowledge.points)."""
    _require(decide_feedback(actor, FeedbackAction.RATE, resource))
    errors: dict = {}
    text = clean_text(errors, "note", note, limit=MAX_NOTE, required=False)
    _check(errors)
    with transaction.atomic():
        forget_counts(resource)
        mark, created = Helped.objects.select_for_update().get_or_create(
            resource=resource, user=actor, defaults={"note": text}
        )
        if not created:
            if mark.note != text:
                mark.note = text
                mark.save(update_fields=["note"])
                record(
                    actor,
                    "helped.noted",
                    resource,
                    departments=_departments(resource),
                    details={**_base_details(resource), "note": text},
                )
            return mark
        credit = points.credit_for_resource(Credit.Kind.HELPED, actor=actor, resource=resource)
        owner = points.credited_person_id(resource)
        recipients = [owner] if owner and owner != actor.pk else []
        record(
            actor,
            "helped.marked",
            resource,
            departments=_departments(resource),
            details={**_base_details(resource), "note": text, "credited": credit is not None, "recipients": recipients},
        )
    return mark


def withdraw_helped(actor, resource: Resource) -> bool:
    """Take back one's "this helped me" mark; the recognition it earned goes with it."""
    _require(decide_feedback(actor, FeedbackAction.RATE, resource))
    with transaction.atomic():
        forget_counts(resource)
        deleted, _rows = Helped.objects.filter(resource=resource, user=actor).delete()
        if not deleted:
            return False
        points.withdraw(Credit.Kind.HELPED, actor=actor, item=f"resource:{resource.pk}")
        record(actor, "helped.withdrawn", resource, departments=_departments(resource), details=_base_details(resource))
    return True


# --- reads --------------------------------------------------------------------------------------------------


@dataclass
class ShownComment:
    comment: Comment
    html: SafeString | None  # None: hidden, and the reader is neither a moderator nor its author
    can_edit: bool
    replies: list = field(default_factory=list)
    answers: Comment | None = None  # for a second-level reply: the first-level comment it answers


def shown_comment(actor, resource: Resource, comment: Comment, moderator: bool) -> ShownComment:
    hidden = comment.hidden_at is not None
    visible = not hidden or moderator or (comment.author_id is not None and comment.author_id == actor.pk)
    return ShownComment(
        comment=comment,
        html=body_html(comment.body) if visible else None,
        can_edit=bool(decide_comment(actor, CommentAction.EDIT, resource, comment)),
    )


def _count(model, **filters):
    rows = model.objects.filter(resource_id=OuterRef("pk"), **filters).order_by().values("resource_id")
    return Coalesce(Subquery(rows.annotate(n=Count("pk")).values("n")[:1]), 0)


def _mine(model, actor, column: str):
    return Subquery(model.objects.filter(resource_id=OuterRef("pk"), user_id=actor.pk).values(column)[:1])


_COUNTED = ("comments", "threads", "useful", "not_useful", "helped", "my_useful", "my_reason", "my_helped", "my_note")


def counts(actor, resource: Resource) -> dict:
    """Comments, threads, ratings and "this helped me" marks of a resource, and the caller's own rating and
    mark, in one query (kept on the resource for the other panel of the same page)."""
    cached = getattr(resource, "_social_counts", None)
    if cached is not None and cached[0] == actor.pk:
        return cached[1]
    row = (
        Resource.objects.filter(pk=resource.pk)
        .order_by()
        .annotate(
            social_comments=_count(Comment),
            social_threads=_count(Comment, parent__isnull=True),
            social_useful=_count(Rating, useful=True),
            social_not_useful=_count(Rating, useful=False),
            social_helped=_count(Helped),
            social_my_useful=_mine(Rating, actor, "useful"),
            social_my_reason=_mine(Rating, actor, "reason"),
            social_my_helped=_mine(Helped, actor, "pk"),
            social_my_note=_mine(Helped, actor, "note"),
        )
        .values(*(f"social_{name}" for name in _COUNTED))
        .first()
    ) or {}
    found = {name: row.get(f"social_{name}") for name in _COUNTED}
    resource._social_counts = (actor.pk, found)
    return found


def forget_counts(resource: Resource) -> None:
    resource.__dict__.pop("_social_counts", None)


def threads(actor, resource: Resource, offset: int, limit: int) -> list[ShownComment]:
    """First-level comments newest first (`offset`, `limit`), each with its replies oldest first: two queries
    whatever the number of threads and replies. The caller has checked that the actor reads the comments."""
    moderator = bool(decide_comment(actor, CommentAction.HIDE, resource))
    related = ("author", "hidden_by")
    roots = list(
        Comment.objects.filter(resource_id=resource.pk, parent__isnull=True)
        .select_related(*related)
        .order_by("-created_at", "-pk")[offset : offset + limit]
    )
    shown = {c.pk: shown_comment(actor, resource, c, moderator) for c in roots}
    if not roots:
        return []
    replies = (
        Comment.objects.filter(resource_id=resource.pk)
        .filter(Q(parent_id__in=list(shown)) | Q(parent__parent_id__in=list(shown)))
        .select_related(*related)
        .order_by("created_at", "pk")
    )
    first_level: dict[int, ShownComment] = {}
    later = []
    for reply in replies:
        item = shown_comment(actor, resource, reply, moderator)
        if reply.parent_id in shown:
            first_level[reply.pk] = item
            shown[reply.parent_id].replies.append(item)
        else:
            later.append(item)
    for item in later:  # second level: in the thread, after the comment it answers
        answered = first_level.get(item.comment.parent_id)
        if answered is not None:
            item.answers = answered.comment
            shown[answered.comment.parent_id].replies.append(item)
    for root in shown.values():
        root.replies.sort(key=lambda i: (i.comment.created_at, i.comment.pk))
    return [shown[c.pk] for c in roots]


def comment_list(resource: Resource, after: int | None, limit: int):
    """All comments of a resource oldest first, by id (the API's cursor), with their people."""
    queryset = Comment.objects.filter(resource_id=resource.pk).select_related("author", "hidden_by").order_by("pk")
    if after:
        queryset = queryset.filter(pk__gt=after)
    return list(queryset[: limit + 1])


def rating_summary(actor, resource: Resource) -> dict:
    """Counts for whoever sees the entry; the caller's own rating; the reasons, with names, for stewards."""
    found = counts(actor, resource)
    summary = {"useful": found.get("useful") or 0, "not_useful": found.get("not_useful") or 0, "mine": None}
    summary["reasons"] = None
    if found.get("my_useful") is not None and decide_feedback(actor, FeedbackAction.RATE, resource):
        summary["mine"] = {"useful": bool(found["my_useful"]), "reason": found.get("my_reason") or ""}
    if decide_feedback(actor, FeedbackAction.REASONS, resource):
        summary["reasons"] = []
    if summary["reasons"] is not None and summary["useful"] + summary["not_useful"]:
        summary["reasons"] = list(
            Rating.objects.filter(resource_id=resource.pk)
            .exclude(reason="")
            .select_related("user")
            .order_by("useful", "-updated_at", "-pk")[:RECENT_REASONS]
        )
    return summary


def helped_summary(actor, resource: Resource) -> dict:
    """The count for whoever sees the entry; the caller's mark and the recent notes with names for readers."""
    found = counts(actor, resource)
    summary = {"count": found.get("helped") or 0, "mine": None, "recent": None}
    if decide_feedback(actor, FeedbackAction.SEE, resource):
        if found.get("my_helped") is not None:
            summary["mine"] = {"note": found.get("my_note") or ""}
        summary["recent"] = []
    if summary["recent"] is not None and summary["count"]:
        summary["recent"] = list(
            Helped.objects.filter(resource_id=resource.pk)
            .exclude(note="")
            .select_related("user")
            .order_by("-created_at", "-pk")[:RECENT_NOTES]
        )
    return summary


def my_helped(actor, resource: Resource) -> Helped | None:
    return Helped.objects.filter(resource_id=resource.pk, user_id=actor.pk).select_related("user").first()


def helped_list(resource: Resource, before: int | None, limit: int):
    """The marks on a resource newest first, by id (cursor: the last id shown)."""
    queryset = Helped.objects.filter(resource_id=resource.pk).select_related("user").order_by("-pk")
    if before:
        queryset = queryset.filter(pk__lt=before)
    return list(queryset[: limit + 1])


def ratings_list(resource: Resource, before: int | None, limit: int):
    queryset = Rating.objects.filter(resource_id=resource.pk).select_related("user").order_by("-pk")
    if before:
        queryset = queryset.filter(pk__lt=before)
    return list(queryset[: limit + 1])


# --- the panels on the resource page ------------------------------------------------------------------------


def page_number(raw) -> int:
    number = parse_id(raw)
    return number if number is not None and number < 100_000 else 1


def comments_context(request, resource: Resource, page: int = 1, **extra) -> dict:
    actor = request.user
    readable = bool(decide_comment(actor, CommentAction.WRITE, resource))
    found = counts(actor, resource)
    pages = max(1, -(-(found.get("threads") or 0) // COMMENTS_PER_PAGE))
    page = min(max(page, 1), pages)
    context = {
        "resource": resource,
        "readable": readable,
        "counts": found,
        "page": page,
        "pages": pages,
        "previous_page": page - 1 if page > 1 else None,
        "next_page": page + 1 if page < pages else None,
        "max_body": MAX_BODY,
        "max_hide_reason": MAX_HIDE_REASON,
        **extra,
    }
    if readable:
        context["threads"] = (
            threads(actor, resource, (page - 1) * COMMENTS_PER_PAGE, COMMENTS_PER_PAGE) if found.get("threads") else []
        )
        context["moderator"] = bool(decide_comment(actor, CommentAction.HIDE, resource))
    return context


def feedback_context(request, resource: Resource, **extra) -> dict:
    actor = request.user
    return {
        "resource": resource,
        "can_rate": bool(decide_feedback(actor, FeedbackAction.RATE, resource)),
        "ratings": rating_summary(actor, resource),
        "helped": helped_summary(actor, resource),
        "max_reason": MAX_RATING_REASON,
        "max_note": MAX_NOTE,
        **extra,
    }


def comments_panel(request, resource: Resource, read=None, **extra) -> str:
    context = comments_context(request, resource, page_number(request.GET.get("cpage")), **extra)
    return render_to_string("knowledge/social/_comments.html", context, request=request)


def feedback_panel(request, resource: Resource, read=None, **extra) -> str:
    return render_to_string("knowledge/social/_feedback.html", feedback_context(request, resource, **extra), request)


# --- registration -------------------------------------------------------------------------------------------


def _resource_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/#comments"


def _helped_link(details: dict) -> str:
    return f"/resources/{details.get('code', '')}/#feedback"


def _describe_events() -> None:
    from sharehub.events import describe

    describe.register_area("comment", gettext_lazy("Comments"))
    describe.register_area("rating", gettext_lazy("Ratings"))
    describe.register_area("helped", gettext_lazy("“This helped me”"))
    describe.register(
        "comment.created", gettext_lazy("Comment written"), gettext_lazy("%(actor)s commented on %(target)s.")
    )
    describe.register(
        "comment.edited", gettext_lazy("Comment edited"), gettext_lazy("%(actor)s edited a comment on %(target)s.")
    )
    describe.register(
        "comment.mentioned",
        gettext_lazy("People mentioned"),
        gettext_lazy("%(actor)s mentioned people in a comment on %(target)s."),
    )
    describe.register(
        "comment.hidden",
        gettext_lazy("Comment hidden"),
        gettext_lazy("%(actor)s hid a comment on %(target)s: %(reason)s"),
    )
    describe.register(
        "comment.shown",
        gettext_lazy("Comment shown again"),
        gettext_lazy("%(actor)s showed a hidden comment on %(target)s again."),
    )
    describe.register("rating.set", gettext_lazy("Rated"), _rated)
    describe.register(
        "rating.cleared", gettext_lazy("Rating removed"), gettext_lazy("%(actor)s removed their rating of %(target)s.")
    )
    describe.register(
        "helped.marked",
        gettext_lazy("“This helped me”"),
        gettext_lazy("%(actor)s marked that %(target)s helped them."),
    )
    describe.register(
        "helped.noted",
        gettext_lazy("“This helped me” note changed"),
        gettext_lazy("%(actor)s changed their note on how %(target)s helped them."),
    )
    describe.register(
        "helped.withdrawn",
        gettext_lazy("“This helped me” withdrawn"),
        gettext_lazy("%(actor)s withdrew their “this helped me” from %(target)s."),
    )
    areas = ("comment.", "rating.", "helped.")
    for key in ("code", "title", "resource_id", "comment", "recipients", "changed"):
        describe.register_detail(key, key, describe.HIDDEN, actions=areas)
    describe.register_detail("reply", gettext_lazy("Reply"), describe.BOOL, actions=("comment.created",))
    describe.register_detail("mentioned", gettext_lazy("Mentioned"), describe.PEOPLE, actions=("comment.",))
    describe.register_detail("author", gettext_lazy("Written by"), describe.PERSON, actions=("comment.",))
    describe.register_detail("reason", gettext_lazy("Reason"), actions=("comment.", "rating."))
    describe.register_detail("useful", gettext_lazy("Useful"), describe.BOOL, actions=("rating.",))
    describe.register_detail("note", gettext_lazy("Used for"), actions=("helped.",))
    describe.register_detail("credited", gettext_lazy("Earned recognition"), describe.BOOL, actions=("helped.",))


def _rated(details: dict) -> str:
    if details.get("useful"):
        return _("%(actor)s rated %(target)s useful.")
    return _("%(actor)s rated %(target)s not useful: %(reason)s")


def _messages() -> None:
    from sharehub.feeds import messages

    messages.register("comment.created", gettext_lazy("%(actor)s commented on %(title)s."), _resource_link)
    messages.register(
        "comment.mentioned", gettext_lazy("%(actor)s mentioned you in a comment on %(title)s."), _resource_link
    )
    messages.register(
        "comment.hidden",
        gettext_lazy("A steward hid your comment on %(title)s: %(reason)s"),
        _resource_link,
    )
    messages.register("helped.marked", gettext_lazy("%(actor)s says %(title)s helped them."), _helped_link)


def register() -> None:
    """Called once from KnowledgeConfig.ready: event descriptions, notification sentences, page panels."""
    _describe_events()
    _messages()
    panels.register(feedback_panel, order=150, column="main")
    panels.register(comments_panel, order=160, column="main")
