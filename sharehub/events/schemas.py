"""Response and filter shapes of the audit API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

from sharehub.org.schemas import DbId, DepartmentRef, UtcDateTime


class ReadableDetail(Schema):
    label: str
    value: str


class EventOut(Schema):
    seq: int
    created_at: datetime
    actor: str | None = Field(description="Username of the actor; null for the system or the command line")
    action: str
    target_type: str
    target_id: str
    target_label: str
    departments: list[DepartmentRef]
    details: dict[str, Any]
    hash: str
    prev_hash: str
    action_name: str = Field(description="The action's name in the caller's language")
    description: str = Field(description="The event as a sentence in the caller's language, with names and titles")
    readable_details: list[ReadableDetail] = Field(description="The details as labelled values, for people")


class EventPage(Schema):
    items: list[EventOut]
    next_cursor: str | None = Field(None, description="Pass as `cursor` to get older events; null on the last page.")


class EventFilterIn(Schema):
    actor: str | None = Field(None, description="Username")
    action: str | None = Field(None, description='Exact action, or a prefix ending in "." such as "resource."')
    department: DbId | None = None
    target_type: str | None = None
    target_id: str | None = None
    since: UtcDateTime | None = None
    until: UtcDateTime | None = None
