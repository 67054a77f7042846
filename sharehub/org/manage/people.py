"""The people console: everyone with their departments and roles, filters, changes to several people at once,
one person's page, and deactivation with the handover wizard (sharehub.org.handover). Organization admins
only; anyone else gets 404."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from sharehub.errors import Conflict, Invalid
from sharehub.org import handover, queries, services
from sharehub.org.manage import admin_page
from sharehub.org.models import ApiToken, Department, Membership, User
from sharehub.validation import parse_id

PAGE_SIZE = 50
MAX_TEXT = 150


def _text(value, limit: int = MAX_TEXT) -> str:
    return (value or "").replace("\x00", "").strip()[:limit]


def _department(value) -> Department | None:
    number = parse_id(value or "")
    return Department.objects.filter(pk=number).first() if number else None


def _filters(params, departments: list[Department]) -> tuple[queries.PeopleFilters, dict]:
    """The list's filters from the query string: anything unknown is ignored, as if not given. The department
    is found among `departments` (already read for the page's selects)."""

    def choice(name: str, choices, default: str = "") -> str:
        value = params.get(name, default)
        return value if value in choices else default

    wanted = parse_id(params.get("department") or "")
    department = next((d for d in departments if d.pk == wanted), None)
    form = {
        "q": _text(params.get("q")),
        "department": department.pk if department else None,
        "role": choice("role", Membership.Role.values),
        "org_role": choice("org_role", queries.PEOPLE_ORG_ROLES),
        "status": choice("status", queries.PEOPLE_STATUSES),
        "kind": choice("kind", queries.PEOPLE_KINDS, "person"),
        "sort": choice("sort", queries.PEOPLE_SORTS, "name"),
    }
    filters = queries.PeopleFilters(
        text=form["q"],
        department=department,
        role=form["role"],
        org_role=form["org_role"],
        status=form["status"],
        kind=form["kind"],
        sort=form["sort"],
    )
    return filters, form


def _sign_in_ways(person: User) -> list[str]:
    ways = []
    if person.has_usable_password():
        ways.append(_("password"))
    labels = {"ldap": "LDAP", "oidc": "OpenID Connect"}
    for account in getattr(person, "_prefetched_objects_cache", {}).get("directory_accounts", ()):
        label = labels.get(account.source, account.source)
        if label not in ways:
            ways.append(label)
    return ways


def _department_options(departments: list[Department]) -> list[tuple[int, str]]:
    """Departments for a select, indented by their place in the tree; archived ones say so."""
    options = []
    for department in departments:
        label = "\u00a0\u00a0" * department.depth + department.name
        if department.archived_at:
            label += " " + _("(archived)")
        options.append((department.pk, label))
    return options


def _roles() -> list[tuple[str, str]]:
    return list(Membership.Role.choices)


def _bulk_choices() -> list[tuple[str, str]]:
    return [
        ("add", _("Add to a department")),
        ("set_role", _("Change the role in a department")),
        ("remove", _("Remove from a department")),
        ("make_auditor", _("Make auditor")),
        ("unmake_auditor", _("Stop being auditor")),
        ("deactivate", _("Deactivate")),
        ("reactivate", _("Reactivate")),
    ]


@admin_page
@require_http_methods(["GET", "POST"])
def index(request):
    departments = queries.department_choices()
    filters, form = _filters(request.GET, departments)
    found = queries.people(request.user, filters)
    context = {
        "form": form,
        "department_options": _department_options(departments),
        "bulk_department_options": _department_options([d for d in departments if not d.archived_at]),
        "roles": _roles(),
        "sorts": [
            ("name", _("name")),
            ("-name", _("name, Z to A")),
            ("-last_login", _("last sign-in, latest first")),
            ("last_login", _("last sign-in, earliest first")),
        ],
        "wizard_ids": set(),
        "bulk_choices": _bulk_choices(),
        "bulk": {},
        "errors": {},
        "refused": [],
        "org_roles": [("admin", _("admin")), ("auditor", _("auditor")), ("none", _("neither"))],
        "statuses": [("active", _("active")), ("deactivated", _("deactivated"))],
        "kinds": [("person", _("people")), ("service", _("service accounts")), ("all", _("all"))],
    }
    status = 200
    if request.method == "POST":
        outcome = _bulk(request, context)
        if outcome is not None:
            return outcome
        status = 422
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [{"person": p, "ways": _sign_in_ways(p)} for p in page.object_list]
    context.update(page_obj=page, rows=rows)
    return render(request, "org/manage/people.html", context, status=status)


def _bulk(request, context: dict):
    """A bulk change from the list: applied to all the ticked people, or to none with each refusal shown."""
    ids = [i for i in (parse_id(v) for v in request.POST.getlist("ids")[: PAGE_SIZE * 4]) if i]
    people = list(User.objects.filter(pk__in=ids).order_by("display_name", "username"))
    action = request.POST.get("action", "")
    department_value = request.POST.get("bulk_department", "")
    department = _department(department_value)
    role = request.POST.get("bulk_role", "")
    context["bulk"] = {"action": action, "department": department_value, "role": role, "ids": {p.pk for p in people}}
    try:
        count = services.bulk_change_people(request.user, people, action, department=department, role=role)
    except services.BulkRefused as error:
        by_id = {p.pk: p for p in people}
        context["refused"] = [(by_id[pk], why) for pk, why in error.people.items() if pk in by_id]
        context["wizard_ids"] = set(handover.people_holding(error.people)) if action == "deactivate" else set()
        context["errors"] = {"ids": str(error.message)}
        return None
    except Invalid as error:
        fields = dict(error.fields)
        if "department" in fields:
            fields["bulk_department"] = fields.pop("department")
        if "role" in fields:
            fields["bulk_role"] = fields.pop("role")
        context["errors"] = fields
        return None
    messages.success(
        request,
        _("%(action)s: done for %(n)s people.") % {"action": dict(_bulk_choices()).get(action, action), "n": count},
    )
    return redirect(f"{reverse('org:manage_people')}?{request.GET.urlencode()}")


# --- one person ------------------------------------------------------------------------------------------


def _person_context(request, person: User, **extra) -> dict:
    member_of = {m.department_id for m in person.memberships.all()}
    tokens = ApiToken.objects.filter(user=person, revoked_at__isnull=True)
    context = {
        "person": person,
        "memberships": list(person.memberships.all()),
        "ways": _sign_in_ways(person),
        "directory": bool(getattr(person, "_prefetched_objects_cache", {}).get("directory_accounts")),
        "departments": [d for d in queries.department_choices() if d.pk not in member_of and not d.archived_at],
        "roles": _roles(),
        "languages": settings.LANGUAGES,
        "active_tokens": sum(1 for t in tokens if t.is_active),
        "tokens_url": f"{reverse('org:all_tokens')}?{urlencode({'owner': person.username})}",
        "is_self": person.pk == request.user.pk,
        "errors": {},
        "form": {},
        "section": "",
    }
    context.update(extra)
    return context


def _person_page(request, person: User, status: int = 200, **extra):
    return render(request, "org/manage/person.html", _person_context(request, person, **extra), status=status)


def _back(person: User):
    return redirect("org:manage_person_detail", pk=person.pk)


@admin_page
def person_detail(request, pk: int):
    return _person_page(request, queries.access_person(request.user, pk))


@admin_page
@require_POST
def person_profile(request, pk: int):
    person = queries.access_person(request.user, pk)
    form = {name: request.POST.get(name, "") for name in ("display_name", "email", "language")}
    try:
        with transaction.atomic():
            services.update_person(
                request.user, person, display_name=form["display_name"].strip(), email=form["email"].strip()
            )
            services.set_person_language(request.user, person, form["language"])
    except Invalid as error:
        person.refresh_from_db()
        return _person_page(request, person, 422, errors=error.fields, form=form, section="profile")
    messages.success(request, _("The profile of %(name)s is saved.") % {"name": person})
    return _back(person)


@admin_page
@require_POST
def person_membership(request, pk: int):
    """Add to a department, change the role in one, or leave one (`op` add/set/remove)."""
    person = queries.access_person(request.user, pk)
    op = request.POST.get("op", "")
    department = _department(request.POST.get("department"))
    role = request.POST.get("role", Membership.Role.MEMBER)
    form = {"department": request.POST.get("department", ""), "role": role}
    try:
        if department is None:
            raise Invalid(fields={"department": _("Choose a department.")})
        if op == "remove":
            services.remove_membership(request.user, person, department)
            done = _("%(name)s left %(department)s.")
        elif op in ("add", "set"):
            services.set_membership(request.user, person, department, role)
            done = _("%(name)s is in %(department)s as %(role)s.")
        else:
            raise Invalid(fields={"op": _("Choose what to do.")})
    except Invalid as error:
        return _person_page(request, person, 422, errors=error.fields, form=form, section="membership")
    roles = dict(Membership.Role.choices)
    messages.success(request, done % {"name": person, "department": department, "role": roles.get(role, role)})
    return _back(person)


@admin_page
@require_POST
def person_roles(request, pk: int):
    person = queries.access_person(request.user, pk)
    is_admin = request.POST.get("is_org_admin") == "on"
    is_auditor = request.POST.get("is_auditor") == "on"
    try:
        services.change_org_roles(request.user, person, is_org_admin=is_admin, is_auditor=is_auditor)
    except Invalid as error:
        return _person_page(request, person, 422, errors=error.fields, section="roles")
    messages.success(request, _("The organization roles of %(name)s are saved.") % {"name": person})
    return _back(person)


@admin_page
@require_POST
def person_password(request, pk: int):
    person = queries.access_person(request.user, pk)
    password = request.POST.get("password", "")
    try:
        if person.is_service:
            raise Invalid(fields={"password": _("A service account signs in with tokens only.")})
        if not password or "\x00" in password or len(password) > 128:
            raise Invalid(fields={"password": _("Give the new password (at most 128 characters).")})
        services.set_password(request.user, person, password)
    except Invalid as error:
        return _person_page(request, person, 422, errors=error.fields, section="password")
    messages.success(request, _("A new password is set for %(name)s; tell them in person.") % {"name": person})
    return _back(person)


@admin_page
@require_POST
def person_reactivate(request, pk: int):
    person = queries.access_person(request.user, pk)
    if not person.is_active:
        services.update_person(request.user, person, is_active=True)
        messages.success(request, _("%(name)s can sign in again.") % {"name": person})
    return _back(person)


# --- the handover wizard ---------------------------------------------------------------------------------


def _choice_rows(prefix: str, holding, by_department: dict, data, errors: dict) -> list[dict]:
    """Step 2's select for each department or resource: its field name, the people to choose from, the
    choice made and the error at it."""
    rows = []
    for item in holding.items if holding else []:
        name = f"{prefix}-{item.key}"
        department_id = item.key if prefix == "department" else item.department_id
        rows.append(
            {
                "item": item,
                "name": name,
                "members": by_department.get(department_id, []),
                "value": parse_id(data.get(name) or "") if data else None,
                "error": errors.get(name, ""),
            }
        )
    return rows


def _wizard(request, person: User, step: int, found: handover.Holdings, status: int = 200, **extra):
    everyone, by_department = handover.successor_choices(found)
    data = extra.pop("data", {})
    errors = extra.pop("errors", {})
    context = {
        "person": person,
        "step": step,
        "found": found,
        "everyone": everyone,
        "successor": parse_id(data.get("successor") or "") if data else None,
        "reason": data.get("reason", "") if data else "",
        "department_rows": _choice_rows("department", found.of("departments"), by_department, data, errors),
        "resource_rows": _choice_rows("resource", found.of("resources"), by_department, data, errors),
        "errors": errors,
        "refusal": handover.refusal(request.user, person),
    }
    context.update(extra)
    return render(request, "org/manage/handover.html", context, status=status)


def _plan_rows(found: handover.Holdings, plan: handover.Plan) -> list[tuple[str, str, User]]:
    rows = []
    departments = found.of("departments")
    for item in departments.items if departments else []:
        rows.append((item.label, item.detail, plan.for_department(item.key)))
    resources = found.of("resources")
    for item in resources.items if resources else []:
        rows.append((item.label, item.detail, plan.for_resource(item.key, item.department_id)))
    return rows


@admin_page
@require_http_methods(["GET", "POST"])
def person_deactivate(request, pk: int):
    """Step 1 (GET): what they hold. Step 2 (GET ?step=2, POST step=2): the successors. Step 3 (the answer to
    a valid step 2): what will happen, confirmed by POST step=3, which hands over and deactivates."""
    person = queries.access_person(request.user, pk)
    if not person.is_active:
        messages.info(request, _("%(name)s is already deactivated.") % {"name": person})
        return _back(person)
    found = handover.holdings(request.user, person)
    if request.method == "GET":
        step = 2 if request.GET.get("step") == "2" else 1
        return _wizard(request, person, step, found)
    step = request.POST.get("step")
    data = request.POST
    try:
        plan = handover.plan_from(request.user, person, data, found)
    except Invalid as error:
        return _wizard(request, person, 2, found, 422, errors=error.fields, data=data)
    if step != "3":
        return _wizard(request, person, 3, found, plan=plan, hidden=plan.as_form(), plan_rows=_plan_rows(found, plan))
    try:
        counts = handover.hand_over(request.user, person, plan)
    except Conflict as error:
        messages.error(request, str(error.message))
        return _back(person)
    except Invalid as error:
        return _wizard(request, person, 2, found, 422, errors=error.fields, data=data)
    done = ", ".join(f"{p.title}: {counts[p.key]}" for p in handover.parts() if counts.get(p.key))
    messages.success(
        request,
        _("%(name)s is deactivated and can no longer sign in.") % {"name": person} + (f" {done}" if done else ""),
    )
    return _back(person)


urlpatterns = [
    path("", index, name="manage_people"),
    path("<id:pk>/", person_detail, name="manage_person_detail"),
    path("<id:pk>/profile/", person_profile, name="manage_person_profile"),
    path("<id:pk>/memberships/", person_membership, name="manage_person_membership"),
    path("<id:pk>/roles/", person_roles, name="manage_person_roles"),
    path("<id:pk>/password/", person_password, name="manage_person_password"),
    path("<id:pk>/reactivate/", person_reactivate, name="manage_person_reactivate"),
    path("<id:pk>/deactivate/", person_deactivate, name="manage_person_deactivate"),
]
