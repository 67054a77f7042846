"""Load the organization into a fresh database and prepare what the load generators send.

Runs in a child process configured for Sharehub's database. Writes a JSON file of fixtures: bearer
tokens (issued by the real token service), a signed-in session cookie, the ids of the resource and
the request to fetch, and the writers of the concurrent-write phase (one per department).
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass, field

WRITERS = 16
GENERATED_DOCS = 200_000


@dataclass
class Fixtures:
    org: str
    resources: int
    people: int
    departments: int
    member: str = ""
    member_token: str = ""
    service: str = ""
    service_token: str = ""
    session_cookie: str = ""
    resource_id: int = 0
    request_id: int = 0
    requester_token: str = ""
    writers: list[dict] = field(default_factory=list)
    search_words: list[str] = field(default_factory=list)


def load_demo(scale: float = 1.0) -> None:
    from django.core.management import call_command

    call_command("demo", no_serve=True, scale=scale, verbosity=0, stdout=io.StringIO())


def load_generated(docs: int, progress) -> None:
    from django.core.management import call_command

    from bench.search.corpus import Sizes, load

    call_command("migrate", verbosity=0)
    load(Sizes.scaled(docs), progress)


def _service_account(admin_dept):
    from sharehub.org import services as org
    from sharehub.org.models import User

    existing = User.objects.filter(kind=User.Kind.SERVICE, is_active=True).order_by("pk").first()
    if existing is not None:
        return existing
    return org.create_service_account(None, department=admin_dept, username="bench-erp", display_name="ERP")


def _person_qs():
    from sharehub.org.models import User

    return User.objects.filter(kind=User.Kind.PERSON, is_active=True, is_org_admin=False, is_auditor=False).exclude(
        memberships=None
    )


def _request_for(member):
    """A request of `member`'s, or one made now through the service on a conditional resource."""
    from sharehub.access import services as access
    from sharehub.access.models import AccessRequest
    from sharehub.catalog.models import Resource
    from sharehub.policy.engine import Action, ProcessAction, can, visible

    mine = AccessRequest.objects.filter(requester=member).order_by("-pk").first()
    if mine is not None:
        return mine
    candidates = visible(member, Resource.objects.filter(sharing_type=Resource.SharingType.CONDITIONAL), Action.VIEW)
    for resource in candidates.order_by("pk")[:50]:
        if can(member, ProcessAction.REQUEST, resource):
            return access.create_request(
                member,
                resource,
                purpose="基准测试：核验业务数据",
                use_category=AccessRequest.UseCategory.VERIFICATION,
                period_days=30,
                accept_terms=True,
            )
    raise RuntimeError(f"{member.username} can request no conditional resource")


def prepare(org: str) -> Fixtures:
    from django.conf import settings
    from django.test import Client

    from sharehub.access.models import AccessRequest
    from sharehub.catalog.models import Resource
    from sharehub.org.models import Department, Membership, User
    from sharehub.org.services import issue_token
    from sharehub.policy.engine import Action, visible

    fx = Fixtures(
        org=org,
        resources=Resource.objects.count(),
        people=User.objects.filter(kind=User.Kind.PERSON).count(),
        departments=Department.objects.count(),
    )
    # The member: a person who has asked for access (demo), else the first plain member.
    requested = AccessRequest.objects.filter(requester__in=_person_qs()).order_by("-pk").values("requester")[:1]
    plain = _person_qs().filter(memberships__role=Membership.Role.MEMBER).order_by("pk")
    member = _person_qs().filter(pk__in=requested).first() or plain.first() or _person_qs().order_by("pk").first()
    request = _request_for(member)
    service = _service_account(member.memberships.first().department)
    open_resources = Resource.objects.filter(
        sharing_type=Resource.SharingType.OPEN, status=Resource.Status.PUBLISHED
    ).exclude(owner_department__in=member.memberships.values("department"))
    both = visible(service, visible(member, open_resources, Action.READ), Action.READ)
    resource = both.order_by("pk").first() or visible(member, open_resources, Action.READ).order_by("pk").first()
    if resource is None:
        raise RuntimeError("no open resource is readable by the member")

    fx.member, fx.service = member.username, service.username
    fx.member_token = issue_token(None, member, "bench api")[1]
    fx.service_token = issue_token(None, service, "bench api")[1]
    fx.requester_token = fx.member_token if request.requester_id == member.pk else ""
    if not fx.requester_token:
        fx.requester_token = issue_token(None, request.requester, "bench api")[1]
    fx.resource_id, fx.request_id = resource.pk, request.pk

    client = Client()
    client.force_login(member, backend=settings.AUTHENTICATION_BACKENDS[-1])
    fx.session_cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    seen: set[int] = set()
    memberships = Membership.objects.filter(user__in=_person_qs()).select_related("user")
    memberships = memberships.order_by("department_id", "pk")
    picks = []
    for m in memberships:  # one writer per department first, then more people from the same ones
        if m.department_id not in seen:
            seen.add(m.department_id)
            picks.append(m)
    rest = [m for m in memberships[:2000] if m not in picks]
    picks = (picks[:WRITERS] + rest)[:WRITERS]
    for m in picks:
        fx.writers.append(
            {
                "username": m.user.username,
                "department": m.department_id,
                "token": issue_token(None, m.user, "bench writes")[1],
            }
        )
    titles = Resource.objects.filter(status=Resource.Status.PUBLISHED).order_by("pk").values_list("title", flat=True)
    fx.search_words = sorted({t[:2] for t in titles[:200] if len(t) >= 2 and not t[:2].isdigit()})[:20] or ["预算"]
    return fx


def child(org: str, docs: int, out, progress) -> None:
    import json

    import django

    django.setup()
    if org == "demo":
        load_demo()
    else:
        load_generated(docs, progress)
    progress("loaded")
    out.write_text(json.dumps(asdict(prepare(org))))
