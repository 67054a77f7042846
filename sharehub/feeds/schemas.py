"""Request and response shapes of the notifications API."""

from __future__ import annotations

from datetime import date, datetime

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


class FollowIn(StrictSchema):
    kind: str = Field(
        description="resource, dataset (its records), department, tag, category, project, "
        "or search (a saved search of your own: its new matches)"
    )
    target_id: BodyId = Field(description="The id of what to follow")
    delivery: str = Field("in_app", description="in_app, or off (opt out of a department's subscription)")
    until: date | None = Field(None, description="Stop on this day (empty: no end)")
    department_id: BodyId | None = Field(
        None, description="Subscribe this department instead (its stewards and heads; members may opt out)"
    )


class UnfollowIn(StrictSchema):
    kind: str
    target_id: BodyId
    department_id: BodyId | None = Field(None, description="Unsubscribe this department instead")


class MailSettingsIn(StrictSchema):
    involved: str = Field(
        description="How what involves you (requests, decisions, grants) is mailed: in_app (not mailed), "
        "email (at once), daily or weekly (a digest)"
    )


class MailSettingsOut(Schema):
    involved: str
    email_enabled: bool = Field(description="Whether this Sharehub sends email at all")


class UnfollowOut(Schema):
    changed: bool = Field(description="False when there was nothing to stop")


class FollowOut(Schema):
    id: int
    kind: str
    target_id: int
    label: str = Field(description="What it is; a thing you may no longer see is not named")
    link: str
    delivery: str
    until: date | None
    department: str | None = Field(description="The subscribed department, for a department's subscription")


class FollowList(Schema):
    items: list[FollowOut]


class WebhookIn(StrictSchema):
    kind: str = Field("standard", description="standard (Standard Webhooks JSON), feishu, dingtalk or wecom")
    robot_secret: str = Field("", description="A Feishu or DingTalk robot's signing secret, from the chat app")
    url: str = Field(description="http(s) address that receives the events; internal addresses are refused")
    event_types: list[str] = Field(description="Event types (e.g. `resource.updated`), or prefixes such as `dataset.`")
    description: str = ""
    department: BodyId | None = Field(None, description="Register it for this department (its stewards and heads)")
    department_filter: list[BodyId] = Field(default_factory=list, description="Only resources of these departments")


class WebhookPatch(StrictSchema):
    url: str | None = None
    event_types: list[str] | None = None
    description: str | None = None
    department_filter: list[BodyId] | None = None
    active: bool | None = None
    allow_private: bool | None = Field(None, description="Let it reach private addresses (organization admins)")
    robot_secret: str | None = Field(None, description="A chat robot's new signing secret (empty: none)")


class WebhookOut(Schema):
    id: int
    kind: str
    url: str
    description: str
    event_types: list[str]
    department: int | None = Field(description="The department it was registered for, if any")
    department_filter: list[int]
    active: bool
    disabled_reason: str
    allow_private: bool
    created_at: datetime


class WebhookCreated(WebhookOut):
    secret: str | None = Field(description="The signing secret (`whsec_…`), shown this once; null for a chat robot")


class SecretOut(Schema):
    secret: str = Field(description="The new signing secret; the previous one also signs for 24 hours")


class DeliveryOut(Schema):
    id: int
    message_id: str = Field(description="`webhook-id`: the same on every attempt")
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime
    response_status: int | None
    response_body: str
    error: str
    duration_ms: int | None
    created_at: datetime
    payload: str


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None = None
