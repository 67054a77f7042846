"""Request and response shapes of the notifications API."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema

from sharehub.org.schemas import BodyId, StrictSchema

MAX_MARK = 1000


class ActorOut(Schema):
    id: int
    display_name: str
    departments: list[str] = Field(description="Names of the person's departments (a service account's owner)")


class NotificationOut(Schema):
    id: int
    created_at: datetime
    read: bool
    action: str = Field(description="The event behind it, e.g. `access.approved`")
    actor: ActorOut | None = Field(description="Who did it; null for Sharehub's own background work")
    text: str = Field(description="What happened, in the caller's language")
    link: str = Field(description="Where to look (a page path), or empty")


class NotificationPage(Schema):
    items: list[NotificationOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get the next page; null on the last page.")


class MarkReadIn(StrictSchema):
    ids: list[BodyId] | None = Field(
        None, max_length=MAX_MARK, description="Notifications to mark read; leave out to mark all of them"
    )


class MarkReadOut(Schema):
    marked: int = Field(description="How many were unread and are now read")
    unread: int = Field(description="How many remain unread")


class UnreadCountOut(Schema):
    unread: int
