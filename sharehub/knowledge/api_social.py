"""REST API of comments, useful/not useful ratings and "this helped me" on a resource (articles included).

Comments and the notes of "this helped me" are the resource's content: a caller who may not see the entry gets
404, one who sees it but may not read it 403 with the policy's reason (as the catalog answers for content).
The rating and "helped" counts are seen by whoever sees the entry."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import StrictBool

from sharehub.catalog import queries
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden, Invalid
from sharehub.knowledge import social
from sharehub.knowledge.models import Comment
from sharehub.org.api import person_ref
from sharehub.org.schemas import BodyId, PersonRef, StrictSchema
from sharehub.policy.engine import Action
from sharehub.policy.knowledge import CommentAction, FeedbackAction, decide_comment, decide_feedback
from sharehub.validation import MAX_DB_INT, DbId

router = Router(tags=["knowledge"])

MAX_PAGE = 200


# --- shapes ---------------------------------------------------------------------------------------------------


class HiddenOut(Schema):
    at: datetime
    by: PersonRef | None
    reason: str


class CommentOut(Schema):
    id: int
    parent: int | None = Field(description="The comment this one replies to (threads are two replies deep)")
    author: PersonRef | None
    body: str | None = Field(description="Plain text; null when hidden and you are neither its author nor a steward")
    body_html: str | None = Field(description="The text as safe HTML: escaped, links and @mentions marked")
    created_at: datetime
    edited_at: datetime | None
    hidden: HiddenOut | None
    can_edit: bool
    can_hide: bool


class CommentWritten(CommentOut):
    ambiguous_mentions: list[str] = Field(description="@names several people have: nobody was told")


class CommentPage(Schema):
    items: list[CommentOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class CommentIn(StrictSchema):
    body: str = Field(description="Plain text, at most 5000 characters; `@login` mentions a colleague")
    parent: BodyId | None = Field(None, description="Reply to this comment of the same resource")


class CommentEditIn(StrictSchema):
    body: str


class HideIn(StrictSchema):
    reason: str = Field(description="Shown to everyone in place of the text; at most 300 characters")


class MyRating(Schema):
    useful: bool
    reason: str


class ReasonOut(Schema):
    user: PersonRef
    useful: bool
    reason: str
    updated_at: datetime


class UsefulnessOut(Schema):
    useful: int = Field(description="How many rated it useful")
    not_useful: int
    mine: MyRating | None = Field(description="Your rating (readers only)")
    reasons: list[ReasonOut] | None = Field(description="Recent reasons with names: for its stewards only")


class UsefulnessIn(StrictSchema):
    useful: StrictBool
    reason: str = Field("", description="Required when not useful; at most 500 characters")


class HelpedOut(Schema):
    id: int
    user: PersonRef
    note: str
    created_at: datetime


class HelpedPage(Schema):
    count: int
    mine: HelpedOut | None
    items: list[HelpedOut]
    next_cursor: str | None = None


class HelpedIn(StrictSchema):
    note: str = Field("", description="What you used it for (optional), at most 500 characters")


# --- helpers --------------------------------------------------------------------------------------------------


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


def _encode(pk: int) -> str:
    return base64.urlsafe_b64encode(f"c{pk}".encode()).decode().rstrip("=")


def _decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        pk = int(raw[1:]) if raw[:1] == "c" and raw[1:].isascii() and raw[1:].isdigit() else 0
    except (ValueError, UnicodeDecodeError, binascii.Error):
        pk = 0
    if not 0 < pk <= MAX_DB_INT:
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")})
    return pk


def _comment(actor, resource: Resource, comment: Comment, moderator: bool) -> dict:
    shown = social.shown_comment(actor, resource, comment, moderator)
    hidden = None
    if comment.hidden_at is not None:
        hidden = {"at": comment.hidden_at, "by": person_ref(comment.hidden_by), "reason": comment.hidden_reason}
    return {
        "id": comment.pk,
        "parent": comment.parent_id,
        "author": person_ref(comment.author),
        "body": comment.body if shown.html is not None else None,
        "body_html": str(shown.html) if shown.html is not None else None,
        "created_at": comment.created_at,
        "edited_at": comment.edited_at,
        "hidden": hidden,
        "can_edit": shown.can_edit,
        "can_hide": moderator,
    }


def _readable(actor, ident: str) -> Resource:
    return queries.access_resource(actor, ident, Action.READ)


def _moderator(actor, resource) -> bool:
    return bool(decide_comment(actor, CommentAction.HIDE, resource))


def _written(actor, resource, written: social.Written) -> dict:
    out = _comment(actor, resource, written.comment, _moderator(actor, resource))
    return {**out, "ambiguous_mentions": written.mentions.ambiguous}


def _helped(mark) -> dict:
    return {"id": mark.pk, "user": person_ref(mark.user), "note": mark.note, "created_at": mark.created_at}


def _rating(actor, resource) -> dict:
    summary = social.rating_summary(actor, resource)
    reasons = summary["reasons"]
    if reasons is not None:
        reasons = [
            {"user": person_ref(r.user), "useful": r.useful, "reason": r.reason, "updated_at": r.updated_at}
            for r in reasons
        ]
    return {**summary, "reasons": reasons}


# --- comments -------------------------------------------------------------------------------------------------


@router.get("/resources/{ident}/comments", response=CommentPage, summary="Comments on a resource, oldest first")
def list_comments(
    request,
    ident: str,
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    resource = _readable(request.user, ident)
    _require(decide_comment(request.user, CommentAction.WRITE, resource))
    rows = social.comment_list(resource, _decode(cursor), limit)
    more, rows = len(rows) > limit, rows[:limit]
    catalog.note_content_read(request.user, [resource], via="api")  # the discussion is part of the content
    moderator = _moderator(request.user, resource)
    return {
        "items": [_comment(request.user, resource, c, moderator) for c in rows],
        "next_cursor": _encode(rows[-1].pk) if more else None,
    }


@router.post(
    "/resources/{ident}/comments",
    response={201: CommentWritten},
    summary="Comment, or reply to a comment; the steward and the @mentioned readers are told",
)
def create_comment(request, ident: str, payload: CommentIn):
    resource = _readable(request.user, ident)
    written = social.add_comment(request.user, resource, payload.body, payload.parent)
    return Status(201, _written(request.user, resource, written))


@router.patch("/resources/{ident}/comments/{comment_id}", response=CommentWritten, summary="Edit your comment")
def edit_comment(request, ident: str, comment_id: DbId, payload: CommentEditIn):
    resource = _readable(request.user, ident)
    comment = social.comment_of(request.user, resource, comment_id)
    return _written(request.user, resource, social.edit_comment(request.user, comment, payload.body))


@router.post(
    "/resources/{ident}/comments/{comment_id}/hide",
    response=CommentOut,
    summary="Hide a comment with a reason (those who manage the resource); its author is told",
)
def hide_comment(request, ident: str, comment_id: DbId, payload: HideIn):
    resource = _readable(request.user, ident)
    comment = social.hide_comment(request.user, social.comment_of(request.user, resource, comment_id), payload.reason)
    return _comment(request.user, resource, comment, True)


@router.post(
    "/resources/{ident}/comments/{comment_id}/show", response=CommentOut, summary="Show a hidden comment again"
)
def show_comment(request, ident: str, comment_id: DbId):
    resource = _readable(request.user, ident)
    comment = social.unhide_comment(request.user, social.comment_of(request.user, resource, comment_id))
    return _comment(request.user, resource, comment, True)


# --- ratings --------------------------------------------------------------------------------------------------


@router.get(
    "/resources/{ident}/rating",
    response=UsefulnessOut,
    summary="Useful / not useful counts, your rating, and the reasons for stewards",
)
def get_rating(request, ident: str):
    resource = queries.access_resource(request.user, ident)
    return _rating(request.user, resource)


@router.put("/resources/{ident}/rating", response=UsefulnessOut, summary="Rate a resource you read (changeable)")
def set_rating(request, ident: str, payload: UsefulnessIn):
    resource = queries.access_resource(request.user, ident)
    social.set_rating(request.user, resource, payload.useful, payload.reason)
    return _rating(request.user, resource)


@router.delete("/resources/{ident}/rating", response={204: None}, summary="Remove your rating")
def clear_rating(request, ident: str):
    social.clear_rating(request.user, queries.access_resource(request.user, ident))
    return Status(204, None)


# --- "this helped me" ---------------------------------------------------------------------------------------


@router.get(
    "/resources/{ident}/helped",
    response=HelpedPage,
    summary="Who it helped and what for, newest first (readers of the resource)",
)
def list_helped(
    request,
    ident: str,
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    resource = queries.access_resource(request.user, ident)
    _require(decide_feedback(request.user, FeedbackAction.SEE, resource))
    rows = social.helped_list(resource, _decode(cursor), limit)
    more, rows = len(rows) > limit, rows[:limit]
    mine = social.my_helped(request.user, resource)
    return {
        "count": social.counts(request.user, resource).get("helped") or 0,
        "mine": _helped(mine) if mine is not None else None,
        "items": [_helped(h) for h in rows],
        "next_cursor": _encode(rows[-1].pk) if more else None,
    }


@router.post(
    "/resources/{ident}/helped",
    response={201: HelpedOut, 200: HelpedOut},
    summary="Say it helped you, with what for; its owners are told (once per person; again changes the note)",
)
def mark_helped(request, ident: str, payload: HelpedIn):
    resource = queries.access_resource(request.user, ident)
    existed = social.my_helped(request.user, resource) is not None
    mark = social.mark_helped(request.user, resource, payload.note)
    mark.user = request.user
    return Status(200 if existed else 201, _helped(mark))


@router.delete("/resources/{ident}/helped", response={204: None}, summary="Withdraw your “this helped me”")
def withdraw_helped(request, ident: str):
    social.withdraw_helped(request.user, queries.access_resource(request.user, ident))
    return Status(204, None)
