"""REST API of the knowledge side: recognition (leaderboards, the credits behind points, weights)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from django.core.paginator import Paginator
from ninja import Field, Query, Router, Schema
from pydantic import ConfigDict

from sharehub.knowledge import points
from sharehub.knowledge.views_points import board_rows, department_of, explain_lines, person_of
from sharehub.org.models import Membership
from sharehub.org.schemas import DbId
from sharehub.policy.knowledge import decide_recognition_detail

router = Router(tags=["knowledge"])
MAX_PAGE = 200


class By(StrEnum):
    person = "person"
    department = "department"


class BoardPeriod(StrEnum):
    month = "month"
    year = "year"


class LinesPeriod(StrEnum):
    month = "month"
    year = "year"
    all = "all"


class BoardIn(Schema):
    by: By = Field(By.person, description="People or departments")
    period: BoardPeriod = Field(BoardPeriod.month, description="This calendar month or year, in UTC")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(25, ge=1, le=MAX_PAGE)


class BadgeOut(Schema):
    code: str
    label: str
    awarded_at: datetime


class BoardRowOut(Schema):
    rank: int
    id: int
    name: str
    points: int
    departments_reached: int
    badges: list[BadgeOut]


class BoardOut(Schema):
    by: By
    period: BoardPeriod
    first_month: date
    last_month: date
    total: int
    page: int
    pages: int
    items: list[BoardRowOut]


class LinesIn(Schema):
    # A literal, not the enum: the enum of a query schema used by three routes was written two ways.
    period: Literal["month", "year", "all"] = Field("month")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=MAX_PAGE)


class LineOut(Schema):
    created_at: datetime
    month: date
    kind: str
    item: str = Field(description="The item's label, or a note that the caller may not see it")
    url: str = Field(description="Its page, when the caller may see it")
    by_department: str = Field(description="The department of whoever reused it (never the person)")
    counted: bool
    points: int
    reason: str = Field(description="Why it is not counted, when it is not")


class TotalOut(Schema):
    period: LinesPeriod
    points: int
    rank: int
    departments_reached: int


class PointsOut(Schema):
    id: int
    name: str
    totals: list[TotalOut]
    badges: list[BadgeOut]
    lines_visible: bool
    total: int = Field(0, description="Credits in the period asked (when `lines_visible`)")
    page: int = 1
    pages: int = 0
    lines: list[LineOut] = Field(default_factory=list)


class WeightsIn(Schema):
    model_config = ConfigDict(extra="forbid")
    weights: dict[str, int] = Field(description="Points per kind of credit; kinds left out keep their weight")


class WeightsOut(Schema):
    weights: dict[str, int]
    defaults: dict[str, int]
    cap: int = Field(description="Credits from one person to one beneficiary counted a month")
    publish_cap: int = Field(description="Publications of one beneficiary counted a month")


def _badge(badge) -> dict:
    return {"code": badge.code, "label": badge.get_code_display(), "awarded_at": badge.awarded_at}


@router.get(
    "/recognition/leaderboard",
    response=BoardOut,
    summary="The leaderboard of people or departments, this month or this year",
    description="Points are Σ counted credits × the weight of their kind; ties share a rank. Months are "
    "calendar months in UTC.",
)
def leaderboard(request, params: Query[BoardIn]):
    when = points.period(params.period.value)
    rows, total = board_rows(
        params.by.value,
        when,
        limit=params.page_size,
        offset=(params.page - 1) * params.page_size,
        current=points.weights(),
    )
    return {
        "by": params.by,
        "period": params.period,
        "first_month": when.first,
        "last_month": when.last,
        "total": total,
        "page": params.page,
        "pages": (total + params.page_size - 1) // params.page_size,
        "items": [
            {
                "rank": row.rank,
                "id": row.who.pk,
                "name": str(row.who) if params.by == By.person else row.who.name,
                "points": row.points,
                "departments_reached": row.reached,
                "badges": [_badge(b) for b in row.badges],
            }
            for row in rows
        ],
    }


def _points(request, params: LinesIn, *, user=None, department=None) -> dict:
    current = points.weights()
    by, ident = ("person", user.pk) if user is not None else ("department", department.pk)
    if user is not None:
        department_ids = set(Membership.objects.filter(user=user).values_list("department_id", flat=True))
    else:
        department_ids = {department.pk}
    totals = []
    for name in LinesPeriod:
        standing = points.standing(by, ident, points.period(name.value), current)
        totals.append(
            {"period": name, "points": standing.points, "rank": standing.rank, "departments_reached": standing.reached}
        )
    out = {
        "id": ident,
        "name": str(user) if user is not None else department.name,
        "totals": totals,
        "badges": [_badge(b) for b in points.badges_of([user.pk]).get(user.pk, [])] if user is not None else [],
        "lines_visible": False,
    }
    if not decide_recognition_detail(request.user, user.pk if user else None, department_ids):
        return out
    lines = points.credit_lines(
        person_id=user.pk if user else None,
        department_id=department.pk if department else None,
        when=points.period(params.period),
        current=current,
    )
    paginator = Paginator(lines, params.page_size)
    shown = list(lines[(params.page - 1) * params.page_size : params.page * params.page_size])
    out.update(
        lines_visible=True,
        total=paginator.count,
        page=params.page,
        pages=paginator.num_pages if paginator.count else 0,
        lines=[
            {
                "created_at": line["when"],
                "month": line["month"],
                "kind": line["kind_code"],
                "item": str(line["item"]),
                "url": line["url"],
                "by_department": str(line["who"]),
                "counted": line["counted"],
                "points": line["points"],
                "reason": str(line["reason"]),
            }
            for line in explain_lines(request.user, shown)
        ],
    )
    return out


@router.get("/recognition/me", response=PointsOut, summary="Your points, badges and the credits behind them")
def my_points(request, params: Query[LinesIn]):
    return _points(request, params, user=person_of(request.user))


@router.get(
    "/recognition/people/{person_id}",
    response=PointsOut,
    summary="A person's points and badges; the credits behind them for themself, their stewards and admins",
)
def person_points(request, person_id: DbId, params: Query[LinesIn]):
    return _points(request, params, user=person_of(person_id))


@router.get(
    "/recognition/departments/{department_id}",
    response=PointsOut,
    summary="A department's points; the credits behind them for its stewards and heads and admins",
)
def department_points(request, department_id: DbId, params: Query[LinesIn]):
    return _points(request, params, department=department_of(department_id))


def _weights_out(current: dict) -> dict:
    return {
        "weights": current,
        "defaults": {str(k): v for k, v in points.DEFAULT_WEIGHTS.items()},
        "cap": points.CAP,
        "publish_cap": points.PUBLISH_CAP,
    }


@router.get("/recognition/weights", response=WeightsOut, summary="Points per kind of credit")
def get_weights(request):
    return _weights_out(points.weights())


@router.put(
    "/recognition/weights",
    response=WeightsOut,
    summary="Set points per kind of credit (organization admins); re-scores every period",
)
def put_weights(request, payload: WeightsIn):
    return _weights_out(points.set_weights(request.user, payload.weights))
