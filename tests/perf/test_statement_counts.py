"""Every list route, API and page, runs the same number of SQL statements for 1 item as for 50
(invariant 9). One organization is built per module: every route is asked once with one item of each
kind (a page size of 1 where the API has one), then the items grow to 50 (25 where a service caps
them; pages show their page size of them) and every route is asked again. Each test checks that the
two counts of its route are equal and equal to the pinned count. A pinned count that changes is a
change in the cost of the route: read the statements the assertion prints before moving the pin."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from sharehub.access import services as access
from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Category, DataGrade, Project, Resource
from sharehub.events.consumers import run_pending
from sharehub.org import services as org
from sharehub.org.models import Membership
from sharehub.search import segment
from sharehub.search import services as search
from sharehub.search.queries import MAX_PAGE_SIZE
from sharehub.search.services import MAX_SAVED_SEARCHES
from tests import factories

MANY = 50


def _organization() -> tuple[dict, dict]:
    """The departments and people of tests/conftest.py (built here, once for the module), and a
    person who joins many departments."""
    tax = factories.department("税务局", "SWJ")
    hr = factories.department("人力资源和社会保障局", "RSJ")
    units = {
        "tax": tax,
        "hr": hr,
        "social": factories.department("社会保险中心", "SBZX", parent=hr),
        "health": factories.department("卫生健康委员会", "WJW"),
    }
    people = {
        "tax_steward": factories.member(tax, "steward", username="tax_steward"),
        "tax_member": factories.member(tax, "member", username="tax_member"),
        "hr_head": factories.member(hr, "head", username="hr_head"),
        "social_member": factories.member(units["social"], "member", username="social_member"),
        "health_member": factories.member(units["health"], "member", username="health_member"),
        "joiner": factories.member(units["health"], "member", username="joiner"),
        "admin": factories.person("admin", admin=True),
        "auditor": factories.person("auditor", auditor=True),
    }
    return units, people


class World:
    """The organization, and builders that add items of one kind until there are `n` of them."""

    def __init__(self, org_units, people):
        self.units = org_units
        self.people = people
        self.tax = org_units["tax"]
        self.steward = people["tax_steward"]
        self.made: dict[str, list] = {}
        parent = Category.objects.create(name="主题")
        self.category = Category.objects.create(name="财税", parent=parent)
        self.grade = DataGrade.objects.get_or_create(level=9, defaults={"name": "测试级"})[0]
        self.project = Project.objects.create(department=self.tax, name="金税工程")

    def _grow(self, key: str, n: int, make: Callable[[int], object]) -> list:
        items = self.made.setdefault(key, [])
        while len(items) < n:
            items.append(make(len(items)))
        return items

    def resources(self, n: int, *, sharing_type: str = "open", key: str = "", **fields) -> list[Resource]:
        """Published resources of 税务局 with every relation filled: tags, a two-level category, a
        data grade, a project, a scope of two departments and a related entry."""
        related = [self._anchor().pk]

        def make(i: int) -> Resource:
            return factories.resource(
                self.tax,
                by=self.steward,
                sharing_type=sharing_type,
                title=f"资源 税收 {key or sharing_type} {i}",
                tags=[f"标签{i % 3}", "共享"],
                category=self.category.pk,
                data_grade=self.grade.pk,
                project=self.project.pk,
                scope=[self.units["social"], self.units["health"], self.tax],
                related=related,
                **fields,
            )

        return self._grow(key or sharing_type, n, make)

    def _anchor(self, unit: str = "tax", by: str = "tax_steward") -> Resource:
        """A restricted entry the resources of a department relate to: seen by that department only, so
        that the lists of the others hold just the items counted, and the related entries are filtered
        at 1 item as at 200."""
        department, author = self.units[unit], self.people[by]
        return self._grow(
            f"anchor-{unit}",
            1,
            lambda i: factories.resource(department, by=author, sharing_type="restricted"),
        )[0]

    def hr_resources(self, n: int) -> list[Resource]:
        hr = self.units["hr"]
        return self._grow(
            "hr",
            n,
            lambda i: factories.resource(
                hr,
                by=self.people["hr_head"],
                title=f"人社 {i}",
                tags=["社保"],
                category=self.category.pk,
                related=[self._anchor("hr", "hr_head").pk],
            ),
        )

    def requests(self, n: int, *, requester: str = "social_member", key: str = "requests") -> list[AccessRequest]:
        """Open requests for conditional resources of 税务局 (each requester asks for their own ones)."""
        resources = self.resources(n, sharing_type="conditional", key=f"conditional-{key}")

        def make(i: int) -> AccessRequest:
            return access.create_request(
                self.people[requester],
                resources[i],
                purpose=f"核验 {i}",
                use_category="verification",
                period_days=30,
                accept_terms=True,
            )

        return self._grow(key, n, make)

    def decided(self, n: int) -> list[AccessRequest]:
        """Requests of 卫健委's member that the steward decided: approved and rejected in turn."""
        pending = self.requests(n, requester="health_member", key="to-decide")

        def make(i: int) -> AccessRequest:
            if i % 2:
                return access.reject_request(self.steward, pending[i], reason="材料不全")
            return access.approve_request(self.steward, pending[i])

        return self._grow("decided", n, make)

    def overdue(self, n: int) -> list[AccessRequest]:
        """Requests of 卫健委's member for conditional resources of 人社局, past their deadline (not in
        the 税务局 steward's inbox, whose first page keeps a request due later at 1 item as at 200)."""
        hr, head = self.units["hr"], self.people["hr_head"]
        resources = self._grow(
            "hr-conditional",
            n,
            lambda i: factories.resource(hr, by=head, sharing_type="conditional", title=f"人社 有条件 {i}"),
        )
        made = self._grow(
            "overdue",
            n,
            lambda i: access.create_request(
                self.people["health_member"],
                resources[i],
                purpose=f"逾期 {i}",
                use_category="verification",
                period_days=30,
                accept_terms=True,
            ),
        )
        past = timezone.now() - timedelta(days=3)
        AccessRequest.objects.filter(pk__in=[r.pk for r in made]).update(deadline_at=past)
        return made

    def conversation(self, n: int) -> AccessRequest:
        """One request with `n` questions of the steward and answers of the requester (every other
        answer with a file)."""
        asked = self.requests(1, requester="health_member", key="conversation")[0]

        def make(i: int) -> int:
            access.ask_for_information(self.steward, asked, question=f"请补充材料 {i}")
            attachment = (f"材料{i}.txt", [f"材料 {i}".encode()]) if i % 2 else None
            access.give_information(self.people["health_member"], asked, answer=f"已补充 {i}", attachment=attachment)
            return i

        self._grow("conversation", n, make)
        return asked

    def grants(self, n: int, *, resource: Resource | None = None) -> list[Grant]:
        """Active grants to 社保中心's member: on one resource, or each on its own conditional resource."""
        now = timezone.now()
        targets = [resource] * n if resource else self.resources(n, sharing_type="conditional", key="granted")
        key = f"grants-{resource.pk}" if resource else "grants"
        existing = self.made.setdefault(key, [])
        fresh = Grant.objects.bulk_create(
            Grant(
                resource=targets[i],
                grantee_user=self.people["social_member"] if i % 2 else None,
                grantee_department=None if i % 2 else self.units["social"],
                purpose=f"核验 {i}",
                fields=[],
                valid_from=now - timedelta(days=1),
                valid_until=now + timedelta(days=10 + i),
            )
            for i in range(len(existing), n)
        )
        existing.extend(fresh)
        return existing

    def drafts_in_review(self, n: int) -> list[Resource]:
        return self._grow(
            "reviews",
            n,
            lambda i: factories.resource(
                self.tax, by=self.people["tax_member"], publish=False, submit_for_review=True, title=f"草稿 {i}"
            ),
        )

    def versions(self, n: int) -> Resource:
        resource = self.resources(1)[0]

        def make(i: int) -> int:
            if i:
                catalog.update_resource(self.steward, resource, {"summary": f"第 {i} 次修改"}, note=f"修改 {i}")
            return i

        self._grow("versions", n, make)
        return resource

    def attachments(self, n: int) -> Resource:
        resource = self.resources(1)[0]
        self._grow(
            "attachments",
            n,
            lambda i: catalog.add_attachment(self.steward, resource, f"附件{i}.txt", [f"内容 {i}".encode()]),
        )
        return resource

    def departments(self, n: int) -> list:
        return self._grow("departments", n, lambda i: factories.department(f"部门 {i}", f"BM{i}", parent=self.tax))

    def members(self, n: int) -> list:
        role = [Membership.Role.MEMBER, Membership.Role.STEWARD]
        hr = self.units["hr"]
        return self._grow("members", n, lambda i: factories.member(hr, role[i % 2], username=f"person{i}"))

    def tokens(self, n: int, user) -> list:
        return self._grow("tokens", n, lambda i: org.issue_token(user, user, f"令牌 {i}")[0])

    def saved_searches(self, n: int, user) -> list:
        return self._grow(
            "saved",
            n,
            lambda i: search.save_search(user, name=f"查询 {i}", query="税收", filters={"kind": ["document"]}),
        )

    def terms(self, n: int) -> list:
        return self._grow("terms", n, lambda i: search.add_term(self.people["admin"], f"术语{i}号"))

    def memberships(self, n: int, user) -> list:
        departments = self.departments(n)
        return self._grow("memberships", n, lambda i: org.set_membership(None, user, departments[i], "member"))


@dataclass(frozen=True)
class Case:
    """A list route: who asks, for what URL at a page size, and how to make `n` items it lists."""

    name: str
    actor: str
    url: Callable[[World, int], str]
    grow: Callable[[World, int], object]
    api: bool = False
    index: bool = False  # bring the log readers (notifications, search index) up to date after growing
    many: int = MANY  # fewer where the service caps the number of items
    listed: int | None = None  # the API lists at least this many at the large size (default: the page size)


def _api(path: str) -> str:
    return f"/api/v1{path}"


def _sep(path: str) -> str:
    return "&" if "?" in path else "?"


def api_case(name: str, actor: str, path: str | Callable[[World], str], grow, *, limit="limit", **kw) -> Case:
    def url(world: World, n: int) -> str:
        where = path(world) if callable(path) else path
        return _api(where) + (f"{_sep(where)}{limit}={n}" if limit else "")

    return Case(name, actor, url, grow, api=True, **kw)


def page_case(name: str, actor: str, path: str | Callable[[World], str], grow, **kw) -> Case:
    return Case(name, actor, lambda world, n: path(world) if callable(path) else path, grow, **kw)


def _code(resource: Resource) -> str:
    return resource.code


CASES = [
    # --- catalog
    # Open and conditional entries apart: deciding on a conditional entry loads the reader's grants (one
    # statement per request), so a page holding both kinds would count it only once it reached one.
    api_case("api resources", "health_member", "/resources?sharing_type=open", lambda w, n: w.resources(n)),
    api_case(
        "api resources conditional",
        "health_member",
        "/resources?sharing_type=conditional",
        lambda w, n: w.resources(n, sharing_type="conditional"),
    ),
    api_case(
        "api resources with bodies",
        "admin",
        "/resources?include_body=true&sharing_type=conditional",
        lambda w, n: w.resources(n, sharing_type="conditional"),
    ),
    page_case("page catalog", "health_member", "/resources/", lambda w, n: w.resources(n)),
    page_case(
        "page catalog by requests",
        "health_member",
        "/resources/?sort=requested",
        lambda w, n: w.resources(n),
    ),
    page_case(
        "page catalog export",
        "health_member",
        lambda w: f"/resources/export.csv?department={w.tax.pk}&sharing_type=open",
        lambda w, n: w.resources(n),
    ),
    api_case("api reviews", "tax_steward", "/reviews", lambda w, n: w.drafts_in_review(n)),
    page_case("page reviews", "tax_steward", "/reviews/", lambda w, n: w.drafts_in_review(n)),
    api_case(
        "api versions",
        "tax_steward",
        lambda w: f"/resources/{_code(w.versions(1))}/versions",
        lambda w, n: w.versions(n),
        limit=None,
    ),
    page_case(
        "page versions",
        "tax_steward",
        lambda w: f"/resources/{_code(w.versions(1))}/versions/",
        lambda w, n: w.versions(n),
    ),
    api_case(
        "api attachments",
        "health_member",
        lambda w: f"/resources/{_code(w.attachments(1))}/attachments",
        lambda w, n: w.attachments(n),
        limit=None,
    ),
    page_case(
        "page resource detail attachments",
        "health_member",
        lambda w: f"/resources/{_code(w.attachments(1))}/",
        lambda w, n: w.attachments(n),
    ),
    # --- access
    api_case("api requests mine", "social_member", "/requests?scope=mine", lambda w, n: w.requests(n)),
    api_case("api requests inbox", "tax_steward", "/requests?scope=inbox", lambda w, n: w.requests(n)),
    api_case("api requests all", "admin", "/requests?scope=all", lambda w, n: w.requests(n)),
    api_case("api requests handled", "tax_steward", "/requests/handled", lambda w, n: w.decided(n)),
    page_case("page my requests", "social_member", "/requests/", lambda w, n: w.requests(n)),
    page_case("page inbox", "tax_steward", "/requests/inbox/", lambda w, n: w.requests(n)),
    page_case("page handled", "tax_steward", "/requests/handled/", lambda w, n: w.decided(n)),
    page_case("page overdue", "admin", "/requests/overdue/", lambda w, n: w.overdue(n)),
    api_case("api grants mine", "social_member", "/grants?scope=mine", lambda w, n: w.grants(n)),
    api_case("api grants managed", "tax_steward", "/grants?scope=managed", lambda w, n: w.grants(n)),
    api_case(
        "api resource grants",
        "tax_steward",
        lambda w: f"/resources/{_code(w.resources(1, sharing_type='conditional')[0])}/grants",
        lambda w, n: w.grants(n, resource=w.resources(1, sharing_type="conditional")[0]),
    ),
    page_case("page my grants", "social_member", "/grants/", lambda w, n: w.grants(n)),
    page_case(
        "page resource grants",
        "tax_steward",
        lambda w: f"/resources/{_code(w.resources(1, sharing_type='conditional')[0])}/grants/",
        lambda w, n: w.grants(n, resource=w.resources(1, sharing_type="conditional")[0]),
    ),
    api_case(
        "api request detail",
        "tax_steward",
        lambda w: f"/requests/{w.conversation(1).pk}",
        lambda w, n: w.conversation(n),
        limit=None,
        many=MANY // 2,
    ),
    page_case(
        "page request detail",
        "tax_steward",
        lambda w: f"/requests/{w.conversation(1).pk}/",
        lambda w, n: w.conversation(n),
        many=MANY // 2,
    ),
    # --- notifications, audit
    api_case("api notifications", "tax_steward", "/notifications", lambda w, n: w.requests(n), index=True),
    page_case("page notifications", "tax_steward", "/notifications/", lambda w, n: w.requests(n), index=True),
    # one kind of event on the page: each kind of object the entries name is looked up once for the page (for the
    # export: once for each chunk of CSV_CHUNK events)
    api_case(
        "api audit events",
        "auditor",
        "/audit/events?action=access.requested&actor=social_member",
        lambda w, n: w.requests(n),
    ),
    page_case("page audit", "auditor", "/audit/?action=access.requested", lambda w, n: w.requests(n)),
    page_case(
        "page audit export",
        "auditor",
        "/audit/export.csv?action=access.requested&actor=social_member",
        lambda w, n: w.requests(n),
    ),
    # --- organization
    api_case("api people", "health_member", "/people", lambda w, n: w.members(n)),
    api_case("api departments", "health_member", "/departments", lambda w, n: w.departments(n), limit=None),
    api_case("api me", "joiner", "/me", lambda w, n: w.memberships(n, w.people["joiner"]), limit=None),
    api_case(
        "api department",
        "health_member",
        lambda w: f"/departments/{w.units['hr'].pk}",
        lambda w, n: w.members(n),
        limit=None,
        listed=MANY // 2,  # the stewards among the members
    ),
    api_case(
        "api explain",
        "health_member",
        lambda w: f"/resources/{_code(w.hr_resources(1)[0])}/explain",
        lambda w, n: w.members(n),
        limit=None,
        listed=MANY // 2,  # the stewards among the members
    ),
    page_case(
        "page explain",
        "health_member",
        lambda w: f"/resources/{_code(w.hr_resources(1)[0])}/explain/",
        lambda w, n: w.members(n),
    ),
    page_case("page departments", "health_member", "/departments/", lambda w, n: w.departments(n)),
    page_case(
        "page department",
        "health_member",
        lambda w: f"/departments/{w.units['hr'].pk}/",
        lambda w, n: (w.hr_resources(n), w.members(n)),
    ),
    page_case("page tokens", "health_member", "/tokens/", lambda w, n: w.tokens(n, w.people["health_member"])),
    # --- search
    api_case(
        "api search",
        "health_member",
        "/search?q=税收",
        lambda w, n: w.resources(n),
        limit="page_size",
        index=True,
    ),
    page_case("page search", "health_member", "/search/?q=税收", lambda w, n: w.resources(n), index=True),
    api_case(
        "api saved searches",
        "health_member",
        "/search/saved",
        lambda w, n: w.saved_searches(n, w.people["health_member"]),
        limit=None,
        many=MAX_SAVED_SEARCHES,
    ),
    page_case(
        "page search with saved searches",
        "health_member",
        "/search/",
        lambda w, n: w.saved_searches(n, w.people["health_member"]),
        many=MAX_SAVED_SEARCHES,
    ),
    api_case("api search terms", "admin", "/search/terms", lambda w, n: w.terms(n), limit=None),
    # --- home
    page_case("page home", "tax_member", "/", lambda w, n: w.resources(n)),
    page_case("page home with memberships", "joiner", "/", lambda w, n: w.memberships(n, w.people["joiner"])),
    page_case(
        "page catalog as steward",
        "tax_steward",
        "/resources/",
        lambda w, n: (w.resources(n), w.drafts_in_review(n)),
    ),
    api_case(
        "api suggest", "health_member", "/search/suggest?q=资源", lambda w, n: w.resources(n), limit=None, listed=1
    ),
]

# Statements per route, the same on SQLite and on PostgreSQL except where the route appends to the event log:
# there PostgreSQL writes the event, its departments and the chain head in one statement, SQLite in three.
PINNED: dict[str, int | dict[str, int]] = {
    "api resources": 7,
    "api resources conditional": 8,
    "api resources with bodies": {"sqlite": 15, "postgresql": 13},
    "page catalog": 10,
    "page catalog by requests": 10,
    "page catalog export": 7,
    "api reviews": 3,
    "page reviews": 8,
    "api versions": 6,
    "page versions": 10,
    "api attachments": 6,
    # with a follow button for the resource and one for its project; knowledge (issue 15): +1 the comments, ratings
    # and "this helped me" counts (one query; the threads and notes only when there are some), +1 recognition's
    # credit of a read by another department, +1 the "open as an article" panel
    "page resource detail attachments": 14,
    "api requests mine": 3,
    "api requests inbox": 3,
    "api requests all": 3,
    "api requests handled": 3,
    "page my requests": 8,
    "page inbox": 11,
    "page handled": 9,
    "page overdue": 9,
    "api grants mine": 4,
    "api grants managed": 3,
    "api resource grants": 6,
    "page my grants": 7,
    "page resource grants": 10,
    "api request detail": 6,
    "page request detail": 12,
    "api notifications": 5,
    "page notifications": 10,
    "api audit events": 10,  # readable like the page: each kind of object once
    "page audit": 16,  # the readable audit: people, departments, resources and each kind of target, once a page
    "page audit export": 14,  # readable like the page: each kind of object once a chunk of 500 events
    "api people": 4,
    "api departments": 3,
    "api me": 4,
    "api department": 5,
    "api explain": 6,
    "page explain": 8,
    "page departments": 7,
    "page department": 15,  # with its follow button
    "page tokens": 5,
    "api search": 6,
    "page search": 9,
    "api saved searches": 2,
    "page search with saved searches": 5,
    "api search terms": 2,
    "page home": 8,  # with the first-run tour's "seen?" (knowledge.tour)
    "page home with memberships": 8,
    "page catalog as steward": 12,
    "api suggest": 7,
}

PAGE_LIMITS = {"api search": MAX_PAGE_SIZE}


def _statements(client: Client, url: str) -> tuple[list[str], int]:
    """The statements of a GET, and how much it listed: for a JSON answer the length of its longest
    list (the items), for a page its size in bytes."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
        content = b"".join(response.streaming_content) if response.streaming else response.content
    assert response.status_code == 200, (url, response.status_code, response.content[:500])
    listed = len(content)
    if response.get("Content-Type", "").startswith("application/json"):
        body = response.json()
        lists = [body] if isinstance(body, list) else [v for v in body.values() if isinstance(v, list)]
        listed = max((len(items) for items in lists), default=0)
    return [q["sql"] for q in captured.captured_queries], listed


def _summary(statements: list[str]) -> str:
    """The statements with their literals blanked, most repeated first: an N+1 shows as one line × N."""
    shapes = Counter(re.sub(r"\b\d+\b|'[^']*'", "?", sql)[:300] for sql in statements)
    return "\n".join(f"{n} × {sql}" for sql, n in shapes.most_common())


def _client(user, *, api: bool) -> Client:
    client = Client()
    if api:
        token = org.issue_token(user, user, "statement counts")[1]
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    else:
        client.force_login(user)
    return client


class Failed:
    """What went wrong while a case was built or asked, raised again by its own test."""

    def __init__(self, error: BaseException):
        self.error = error


def _measure_all() -> dict[str, dict[int, list[str]] | Failed]:
    units, people = _organization()
    world = World(units, people)
    clients: dict[tuple[str, bool], Client] = {}
    counts: dict[str, dict[int, list[str]] | Failed] = {case.name: {} for case in CASES}
    for phase in (1, MANY):
        for case in CASES:
            if isinstance(counts[case.name], Failed):
                continue
            try:
                case.grow(world, min(phase, case.many))
            except Exception as error:  # reported by the case's own test
                counts[case.name] = Failed(error)
        run_pending()  # notifications and the search index, as after each commit outside tests
        for case in CASES:
            if isinstance(counts[case.name], Failed):
                continue
            size = min(phase, case.many, PAGE_LIMITS.get(case.name, phase))
            key = (case.actor, case.api)
            if key not in clients:
                clients[key] = _client(people[case.actor], api=case.api)
            try:
                url = case.url(world, size)
                _statements(clients[key], url)  # warm per-process caches (translations, settings)
                counts[case.name][phase], counts[case.name][f"listed {phase}"] = _statements(clients[key], url)
            except Exception as error:
                counts[case.name] = Failed(error)
    return counts


@pytest.fixture(scope="module")
def measured(django_db_setup, django_db_blocker, tmp_path_factory):
    """Every case measured at 1 and at many items, inside a transaction rolled back at the end."""
    blobs = tmp_path_factory.mktemp("blobs")
    with (
        django_db_blocker.unblock(),
        override_settings(BLOB_DIR=blobs, SERVER_RUNS_WORKER=False, LANGUAGE_CODE="en"),
        translation.override("en"),
        transaction.atomic(),
    ):
        cache.clear()
        segment.reset()
        try:
            yield _measure_all()
        finally:
            segment.reset()
            cache.clear()
            transaction.set_rollback(True)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_statement_count_does_not_grow_with_the_page(db, measured, case: Case):
    counts = measured[case.name]
    if isinstance(counts, Failed):
        raise counts.error
    many = case.many
    small, large = len(counts[1]), len(counts[MANY])
    pinned = PINNED[case.name]
    if isinstance(pinned, dict):
        pinned = pinned[connection.vendor]
    shown = _summary(counts[MANY])
    if case.api:
        wanted = case.listed or min(case.many, MANY, PAGE_LIMITS.get(case.name, case.many))
        assert counts[f"listed {MANY}"] >= wanted, f"{case.name}: the large page lists {counts[f'listed {MANY}']}"
    else:
        assert counts[f"listed {MANY}"] > counts["listed 1"], f"{case.name}: the page does not grow with its items"
    assert small == large, (
        f"{case.name}: {small} statements for 1 item, {large} for {many}:\n{_summary(counts[1])}\n---\n{shown}"
    )
    assert large == pinned, f"{case.name}: {large} statements, pinned {pinned} on {connection.vendor}:\n{shown}"
