"""Recognition pages: the leaderboards, a person's and a department's points with what they come from, and
the weights admins set. Thin: the scoring is sharehub.knowledge.points; who sees what is the policy's."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from sharehub.catalog.models import Resource
from sharehub.catalog.views import page
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.knowledge import points
from sharehub.knowledge.models import Answer, Badge, Credit, Session
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import OrgAction, can, visible
from sharehub.policy.knowledge import decide_recognition_detail, question_filter

BOARD_SIZE = 25
LINES_PER_PAGE = 50


def _choice(request, name: str, allowed: tuple[str, ...]) -> str:
    value = request.GET.get(name, "")
    return value if value in allowed else allowed[0]


def _page_number(request) -> str:
    raw = request.GET.get("page", "1")
    return raw if raw.isdigit() and len(raw) <= 6 else "1"


@dataclass
class BoardRow:
    rank: int
    who: object  # a User or a Department
    points: int
    reached: int
    badges: list


def board_rows(by: str, when: points.Period, *, limit: int, offset: int, current: dict) -> tuple[list[BoardRow], int]:
    """A page of the leaderboard with names and badges: three statements whatever the page size."""
    standings = points.board(by, when, limit=limit, offset=offset, current=current)
    named = points.names(by, [s.id for s in standings])
    badges = points.badges_of(named) if by == "person" and named else {}
    rows = [
        BoardRow(s.rank, named[s.id], s.points, s.reached, badges.get(s.id, [])) for s in standings if s.id in named
    ]
    return rows, standings[0].total if standings else 0


@page
def leaderboard(request):
    by = _choice(request, "by", ("person", "department"))
    when = points.period(_choice(request, "period", points.PERIODS))
    current = points.weights()
    number = int(_page_number(request))
    rows, total = board_rows(by, when, limit=BOARD_SIZE, offset=(number - 1) * BOARD_SIZE, current=current)
    paginator = Paginator(range(total), BOARD_SIZE)
    page_obj = paginator.get_page(number)
    context = {
        "by": by,
        "when": when,
        "rows": rows,
        "page_obj": page_obj,
        "mine": points.standing("person", request.user.pk, when, current),
        "weights": [(Credit.Kind(kind).label, current[kind]) for kind in Credit.Kind.values],
        "cap": points.CAP,
        "publish_cap": points.PUBLISH_CAP,
        "can_set_weights": bool(can(request.user, OrgAction.MANAGE_ORG)),
        "badge_icons": points.BADGE_ICONS,
    }
    return render(request, "knowledge/points/leaderboard.html", context)


# ---- explaining points -------------------------------------------------------------------------------------


def _parse_item(item: str) -> tuple[str, int | None]:
    kind, _sep, ident = item.partition(":")
    return kind, int(ident) if ident.isdigit() and len(ident) <= 18 else None


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # that part's page is not there (yet)
        return ""


def explain_lines(viewer, lines: list) -> list[dict]:
    """What a page of credits shows `viewer`: an item is named, and linked, only if the viewer may see it now
    (invariant 10); who reused it is their department, never the person. At most three statements (one per
    kind of item) whatever the page size."""
    wanted: dict[str, set[int]] = {}
    for line in lines:
        kind, ident = _parse_item(line.item)
        if ident is not None:
            wanted.setdefault(kind, set()).add(ident)
    links: dict[tuple[str, int], str] = {}
    if wanted.get("resource"):
        for pk, code in visible(viewer, Resource.objects.filter(pk__in=wanted["resource"])).values_list("pk", "code"):
            links[("resource", pk)] = reverse("catalog:detail", args=[code])
    if wanted.get("answer"):
        answers = Answer.objects.filter(pk__in=wanted["answer"]).filter(question_filter(viewer, "question__"))
        for pk, question_id in answers.values_list("pk", "question_id"):
            links[("answer", pk)] = _url("knowledge:question", question_id)
    if wanted.get("question"):
        from sharehub.knowledge.models import Question

        for pk in (
            Question.objects.filter(pk__in=wanted["question"])
            .filter(question_filter(viewer))
            .values_list("pk", flat=True)
        ):
            links[("question", pk)] = _url("knowledge:question", pk)
    if wanted.get("session"):
        # sessions are open to everyone signed in (policy.knowledge.decide_session)
        for pk in Session.objects.filter(pk__in=wanted["session"]).values_list("pk", flat=True):
            links[("session", pk)] = _url("knowledge:session", pk)
    hidden = _("an item you may not see")
    shown = []
    for line in lines:
        key = _parse_item(line.item)
        seen = key in links
        counted = points.is_counted(line)
        if line.actor_id is None:
            who = "—"  # one's own act
            reason = (
                "" if counted else _("not counted: only %(n)s publications a month count") % {"n": points.PUBLISH_CAP}
            )
        else:
            who = line.actor_department.name if line.actor_department_id else _("another department")
            reason = (
                "" if counted else _("not counted: the same person already gave %(n)s this month") % {"n": points.CAP}
            )
        shown.append(
            {
                "when": line.created_at,
                "month": line.month,
                "kind": line.get_kind_display(),
                "kind_code": line.kind,
                "item": line.item_label or line.item if seen else hidden,
                "url": links.get(key, "") if seen else "",
                "visible": seen,
                "who": who,
                "counted": counted,
                "points": line.w if counted else 0,
                "reason": reason % {"n": points.PUBLISH_CAP if line.actor_id is None else points.CAP} if reason else "",
            }
        )
    return shown


def person_of(ident) -> User:
    """A person (not a service account) by id (or the signed-in user itself), or NotFound."""
    if isinstance(ident, User):
        if ident.is_service:
            raise NotFound()
        return ident
    if not isinstance(ident, int) or ident <= 0 or ident > 2**62:
        raise NotFound()
    user = User.objects.filter(pk=ident).first()
    if user is None or user.is_service:
        raise NotFound()
    return user


def department_of(ident) -> Department:
    if not isinstance(ident, int) or ident <= 0 or ident > 2**62:
        raise NotFound()
    department = Department.objects.filter(pk=ident).first()
    if department is None:
        raise NotFound()
    return department


def _owner_page(request, *, user: User | None, department: Department | None):
    period_name = _choice(request, "period", (*points.PERIODS, "all"))
    when = points.period(period_name)
    current = points.weights()
    by, ident = ("person", user.pk) if user is not None else ("department", department.pk)
    if user is not None:
        memberships = list(Membership.objects.filter(user=user).select_related("department"))
        department_ids = {m.department_id for m in memberships}
    else:
        memberships, department_ids = [], {department.pk}
    totals = [
        (
            points.period(name).label if name != "all" else _("all time"),
            name,
            points.standing(by, ident, points.period(name), current),
        )
        for name in (*points.PERIODS, "all")
    ]
    decision = decide_recognition_detail(request.user, user.pk if user else None, department_ids)
    context = {
        "subject": user or department,
        "is_person": user is not None,
        "is_me": user is not None and user.pk == request.user.pk,
        "memberships": memberships,
        "totals": totals,
        "when": when,
        "period_name": period_name,
        "badges": points.badges_of([user.pk]).get(user.pk, []) if user is not None else [],
        "badge_icons": points.BADGE_ICONS,
        "all_badges": Badge.Code.choices,
        "detail": bool(decision),
        "detail_reason": decision.message,
    }
    if decision:
        lines = points.credit_lines(
            person_id=user.pk if user else None,
            department_id=department.pk if department else None,
            when=when,
            current=current,
        )
        page_obj = Paginator(lines, LINES_PER_PAGE).get_page(_page_number(request))
        context["page_obj"] = page_obj
        context["lines"] = explain_lines(request.user, list(page_obj.object_list))
    return render(request, "knowledge/points/owner.html", context)


@page
def me(request):
    return _owner_page(request, user=person_of(request.user), department=None)


@page
def person(request, person_id: int):
    return _owner_page(request, user=person_of(person_id), department=None)


@page
def department(request, department_id: int):
    return _owner_page(request, user=None, department=department_of(department_id))


@page
@require_http_methods(["GET", "POST"])
def weights(request):
    decision = can(request.user, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)
    current = points.weights()
    errors: dict = {}
    values = dict(current)
    if request.method == "POST":
        wanted = {kind: request.POST.get(kind, "") for kind in Credit.Kind.values}
        try:
            points.set_weights(request.user, wanted)
        except Invalid as error:
            errors = error.fields
            values = {kind: str(wanted[kind])[:10] for kind in wanted}
        else:
            messages.success(request, _("Point weights saved. Points everywhere are counted with them now."))
            return redirect("knowledge:recognition-weights")
    rows = [
        {
            "kind": kind,
            "label": Credit.Kind(kind).label,
            "value": values[kind],
            "default": points.DEFAULT_WEIGHTS[kind],
            "error": errors.get(kind, ""),
        }
        for kind in Credit.Kind.values
    ]
    context = {"rows": rows, "max": points.MAX_WEIGHT, "cap": points.CAP, "publish_cap": points.PUBLISH_CAP}
    return render(request, "knowledge/points/weights.html", context, status=422 if errors else 200)
