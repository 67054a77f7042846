"""Property tests for the knowledge side (issue 15): on random organizations with random articles, comments,
ratings, "this helped me" marks, sessions and recognition credits, no route shows a person what the policy
hides from them (invariants 1, 2 and 10).

The organizations come from tests/policy/strategies.py (departments, people of every kind, a few catalog
documents with grants); on top of them each example writes articles of random sharing type, scope, status,
place in the tree, citations and grants. Every title, body, comment, note and reason carries a unique marker,
so a leak shows up as a substring of a response. What a person may know is asked of the policy itself
(`policy.can`, `decide_comment`, `decide_feedback`, `decide_session`, `decide_recognition_detail`): the policy's
own property tests hold those to the rules; these hold the routes to the policy.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.html import escape
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sharehub.access.models import Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.events.models import Event
from sharehub.knowledge import articles, points, qa, sessions, social
from sharehub.knowledge.models import Article, Citation, Credit, Session
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import Action, can, visible, visible_departments
from sharehub.policy.knowledge import (
    CommentAction,
    FeedbackAction,
    QuestionAction,
    SessionAction,
    decide_comment,
    decide_feedback,
    decide_question,
    decide_recognition_detail,
    decide_session,
)
from sharehub.search import segment
from tests.knowledge.sessions_helpers import move_to_past
from tests.knowledge.sessions_helpers import schedule as schedule_session
from tests.policy.route_helpers import Caller, expected_api, expected_page, is_signed_in, text_of, who
from tests.policy.strategies import (
    ARCHIVED_DRAFT,
    GRANT_STATES,
    SHARING,
    STATUSES,
    OrgSpec,
    _grant_period,
    build_world,
    org_specs,
)

pytestmark = pytest.mark.django_db

PROPERTY_SETTINGS = settings(
    max_examples=8,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],  # no "explain": it reruns slow tests
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
WORD = "lighthouse"  # in every article's title, and in nothing else: the search for it finds exactly the articles


@pytest.fixture(autouse=True)
def _fresh_segmenter():
    segment.reset()
    yield
    segment.reset()


# --- what is drawn ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ArticleSpec:
    owner: int
    sharing: str
    scope: tuple[int, ...] | None
    status: str
    parent: int | None  # an earlier article (used when it is of the same department)
    cites: tuple[int, ...]  # indexes into documents + articles (itself left out)
    mentions: tuple[int, ...]  # people @mentioned in the comment on it


@dataclass(frozen=True)
class ArticleGrantSpec:
    article: int
    person: int | None
    department: int | None
    state: str


@dataclass(frozen=True)
class SessionSpec:
    host: int
    by_member: bool  # scheduled by a plain member of the host department (when there is one), else its steward
    speakers: tuple[int, ...]
    past: bool


@dataclass(frozen=True)
class KnowledgeSpec:
    org: OrgSpec
    articles: tuple[ArticleSpec, ...]
    grants: tuple[ArticleGrantSpec, ...]
    sessions: tuple[SessionSpec, ...] = ()
    private_question: tuple[int, int] | None = None  # (asker, department asked)


@st.composite
def knowledge_specs(draw, *, with_sessions: bool = False):
    spec = draw(org_specs(max_departments=4, max_people=5, max_resources=3))
    n, people = len(spec.parents), len(spec.people)
    dept = st.integers(0, n - 1)
    count = draw(st.integers(1, 4))
    items = len(spec.resources) + count
    drawn = []
    for i in range(count):
        drawn.append(
            ArticleSpec(
                owner=draw(dept),
                sharing=draw(st.sampled_from(SHARING)),
                scope=draw(st.none() | st.lists(dept, min_size=1, max_size=2, unique=True).map(tuple)),
                status=draw(st.sampled_from(STATUSES)),
                parent=draw(st.none() | st.integers(0, i - 1)) if i else None,
                cites=tuple(draw(st.lists(st.integers(0, items - 1), max_size=3, unique=True))),
                mentions=tuple(draw(st.lists(st.integers(0, people - 1), max_size=3, unique=True))),
            )
        )
    grants = []
    for _ in range(draw(st.integers(0, 4))):
        to_person = draw(st.booleans())
        grants.append(
            ArticleGrantSpec(
                article=draw(st.integers(0, count - 1)),
                person=draw(st.integers(0, people - 1)) if to_person else None,
                department=None if to_person else draw(dept),
                state=draw(st.sampled_from(GRANT_STATES)),
            )
        )
    planned = ()
    if with_sessions:
        planned = tuple(
            draw(
                st.lists(
                    st.builds(
                        SessionSpec,
                        host=dept,
                        by_member=st.booleans(),
                        speakers=st.lists(st.integers(0, people - 1), max_size=2, unique=True).map(tuple),
                        past=st.booleans(),
                    ),
                    min_size=1,
                    max_size=2,
                )
            )
        )
    question = draw(st.none() | st.tuples(st.integers(0, people - 1), dept))
    return KnowledgeSpec(spec, tuple(drawn), tuple(grants), planned, question)


# --- building the world --------------------------------------------------------------------------------------


def _marker(letter: str) -> str:
    return f"{letter}{secrets.token_hex(6)}q"


@dataclass
class Marks:
    """Unique strings per resource: its title and body, the comment on it, the "helped me" note, the rating's
    reason; and per other item (a private question) its label."""

    title: dict[int, str] = field(default_factory=dict)
    body: dict[int, str] = field(default_factory=dict)
    code: dict[int, str] = field(default_factory=dict)
    comment: dict[int, str] = field(default_factory=dict)
    hidden: dict[int, str] = field(default_factory=dict)  # a comment its steward hid: moderators see it
    note: dict[int, str] = field(default_factory=dict)
    reason: dict[int, str] = field(default_factory=dict)


@dataclass
class KWorld:
    spec: KnowledgeSpec
    departments: list[Department]
    people: list[User]  # the drawn people, fresh
    everyone: list  # every account, fresh, and an anonymous visitor
    documents: list[Resource]
    articles: list[Article]
    resources: list[Resource]  # documents and the articles' resources, fresh
    marks: Marks
    stewards: dict[int, User]  # department index -> a steward who wrote there
    mentioned: dict[int, set[int]] = field(default_factory=dict)  # resource -> people @mentioned in its comment
    commenter: dict[int, int] = field(default_factory=dict)  # resource -> who wrote its comment
    sessions: list[Session] = field(default_factory=list)
    question_label: str = ""
    question_pk: int | None = None


def _steward(departments, stewards: dict[int, User], index: int) -> User:
    if index not in stewards:
        user = org.create_person(None, username=f"kw{index}", check_password=False)
        org.set_membership(None, user, departments[index], Membership.Role.STEWARD)
        stewards[index] = user
    return stewards[index]


def _sharing_fields(sharing: str, scope, departments) -> dict:
    fields = {"sharing_type": sharing}
    if sharing == Resource.SharingType.CONDITIONAL:
        fields["conditions"] = "仅用于核验"
    if sharing == Resource.SharingType.RESTRICTED:
        fields["restriction_basis"] = "《数据安全法》"
    if scope is not None:
        fields["scope_all"] = False
        fields["scope_departments"] = [departments[d] for d in scope]
    return fields


def build(spec: KnowledgeSpec) -> KWorld:
    cache.clear()  # the API's rate-limit counters: ids repeat across examples
    world = build_world(spec.org)
    departments = world.departments
    marks = Marks()
    # The catalog documents: unique title and body markers (a plain update, before anything indexes them).
    for resource in world.resources:
        marks.title[resource.pk], marks.body[resource.pk] = _marker("T"), _marker("B")
        Resource.objects.filter(pk=resource.pk).update(
            title=f"文件 {marks.title[resource.pk]}", body=f"正文 {marks.body[resource.pk]}"
        )
    stewards: dict[int, User] = {}
    made: list[Article] = []
    for a in spec.articles:
        writer = _steward(departments, stewards, a.owner)
        title, body = _marker("T"), _marker("B")
        parent = made[a.parent] if a.parent is not None else None
        if parent is not None and parent.resource.owner_department_id != departments[a.owner].pk:
            parent = None
        article = articles.create_article(
            writer,
            department=departments[a.owner],
            title=f"知识 {WORD} {title}",
            body=f"{body} 正文",
            parent=parent,
            publish=a.status not in (Resource.Status.DRAFT, ARCHIVED_DRAFT),
            **_sharing_fields(a.sharing, a.scope, departments),
        )
        if a.status in (Resource.Status.ARCHIVED, ARCHIVED_DRAFT):
            catalog.transition(writer, article.resource, "archive")
        marks.title[article.resource_id], marks.body[article.resource_id] = title, body
        made.append(article)
    items = [*world.resources, *(a.resource for a in made)]
    for a, article in zip(spec.articles, made, strict=True):
        # Stored directly: a citation may name what its writer (or a later reader) may not see.
        for index in a.cites:
            if index < len(items) and items[index].pk != article.resource_id:
                Citation.objects.get_or_create(article=article, cited=items[index])
    now = timezone.now()
    for g in spec.grants:
        start, end, revoked = _grant_period(g.state, now)
        Grant.objects.create(
            resource=made[g.article].resource,
            grantee_user=world.people[g.person] if g.person is not None else None,
            grantee_department=departments[g.department] if g.department is not None else None,
            purpose="性质测试。",
            valid_from=start,
            valid_until=end,
            revoked_at=revoked,
        )
    for resource in items:
        marks.code[resource.pk] = resource.code

    kworld = KWorld(
        spec=spec,
        departments=departments,
        people=world.people,
        everyone=[],
        documents=world.resources,
        articles=made,
        resources=[],
        marks=marks,
        stewards=stewards,
    )
    _social(kworld, items)
    _credits(kworld, items)
    _sessions(kworld)
    segment.reset()
    consumers.run_pending()  # search indexing, notifications, publication credits: as after a commit
    fresh = {u.pk: u for u in User.objects.order_by("pk")}
    kworld.people = [fresh[u.pk] for u in world.people]
    kworld.everyone = [*fresh.values(), world.everyone[-1]]
    kworld.resources = list(
        Resource.objects.filter(pk__in=[r.pk for r in items])
        .select_related("owner_department", "steward")
        .prefetch_related("scope_departments")
        .order_by("pk")
    )
    return kworld


def _owner_steward(kworld: KWorld, resource: Resource) -> User:
    index = next(i for i, d in enumerate(kworld.departments) if d.pk == resource.owner_department_id)
    return _steward(kworld.departments, kworld.stewards, index)


def _social(kworld: KWorld, items: list[Resource]) -> None:
    """On every resource, a steward of its department (who reads and manages it) comments, @mentioning the
    drawn people; rates it not useful with a reason; and marks that it helped, with a note."""
    marks = kworld.marks
    mentions = {a.resource_id: spec.mentions for spec, a in zip(kworld.spec.articles, kworld.articles, strict=True)}
    for resource in items:
        steward = User.objects.get(pk=_owner_steward(kworld, resource).pk)
        resource = Resource.objects.get(pk=resource.pk)
        named = [kworld.people[i] for i in mentions.get(resource.pk, ())]
        marks.comment[resource.pk], marks.note[resource.pk] = _marker("C"), _marker("H")
        marks.reason[resource.pk] = _marker("R")
        text = " ".join([marks.comment[resource.pk], *(f"@{p.username}" for p in named), "请看"])
        social.add_comment(steward, resource, text)
        marks.hidden[resource.pk] = _marker("X")
        hidden = social.add_comment(steward, resource, marks.hidden[resource.pk]).comment
        social.hide_comment(steward, hidden, "离题")
        social.set_rating(steward, resource, False, f"原因 {marks.reason[resource.pk]}")
        social.mark_helped(steward, resource, f"用于 {marks.note[resource.pk]}")
        kworld.mentioned[resource.pk] = {p.pk for p in named}
        kworld.commenter[resource.pk] = steward.pk


def _credits(kworld: KWorld, items: list[Resource]) -> None:
    """A read credit on every resource (labelled with its title marker, as `points.credit` labels them), and an
    accepted-answer credit for an answer to a private question (its label a marker too)."""
    actor = kworld.people[0]
    month = points.month_of()
    for resource in items:
        resource = Resource.objects.select_related("article").get(pk=resource.pk)
        Credit.objects.create(
            kind=Credit.Kind.READ,
            actor=actor,
            actor_department=kworld.departments[0],
            person_id=points.credited_person_id(resource),
            department_id=resource.owner_department_id,
            item=f"resource:{resource.pk}",
            item_label=f"{resource.code} {resource.title}"[:200],
            month=month,
        )
    if kworld.spec.private_question is None:
        return
    asker_index, dept_index = kworld.spec.private_question
    asker = kworld.people[asker_index]
    if not asker.is_active or asker.is_service:
        return
    label = _marker("Q")
    department = kworld.departments[dept_index]
    question = qa.ask_question(asker, title=f"私密问题 {label}", department=department, private=True)
    answerer = _steward(kworld.departments, kworld.stewards, dept_index)
    answer = qa.answer_question(answerer, question, "回答")
    Credit.objects.create(
        kind=Credit.Kind.ANSWER,
        actor=asker,
        actor_department=kworld.departments[0],
        person=answerer,
        department=kworld.departments[dept_index],
        item=f"answer:{answer.pk}",
        item_label=label,
        month=month,
    )
    kworld.question_label, kworld.question_pk = label, question.pk


def _sessions(kworld: KWorld) -> None:
    for i, s in enumerate(kworld.spec.sessions):
        host = kworld.departments[s.host]
        members = [
            p
            for p, ps in zip(kworld.people, kworld.spec.org.people, strict=True)
            if ps.active and not ps.service and (s.host, Membership.Role.MEMBER) in ps.memberships
        ]
        by = members[0] if s.by_member and members else _steward(kworld.departments, kworld.stewards, s.host)
        by = User.objects.get(pk=by.pk)
        speakers = [
            kworld.people[j]
            for j in s.speakers
            if kworld.spec.org.people[j].active and not kworld.spec.org.people[j].service
        ]
        session = schedule_session(by, host, speakers=speakers, title=f"分享会 {i}", capacity=3)
        sessions.add_material(by, session, f"材料{i}.txt", [f"材料 {i}".encode()])
        for person, ps in zip(kworld.people, kworld.spec.org.people, strict=True):
            if ps.active and not ps.service:
                sessions.sign_up(User.objects.get(pk=person.pk), session)
        if s.past:
            session = move_to_past(session)
        kworld.sessions.append(session)


# --- checking responses ------------------------------------------------------------------------------------------


class Knows:
    """What one actor may know of the world's resources, from the policy."""

    def __init__(self, actor, kworld: KWorld):
        everything = Resource.objects.filter(pk__in=[r.pk for r in kworld.resources])
        self.all = {r.pk for r in kworld.resources}
        self.view = set(visible(actor, everything, Action.VIEW).values_list("pk", flat=True))
        self.read = {r.pk for r in kworld.resources if can(actor, Action.READ, r)}
        self.edit = {r.pk for r in kworld.resources if can(actor, Action.EDIT, r)}
        self.manage = {r.pk for r in kworld.resources if can(actor, Action.MANAGE, r)}
        assert self.read <= self.view, who(actor)
        self.articles = {a.resource_id for a in kworld.articles}


def leaks(text: str, kworld: KWorld, knows: Knows) -> list[str]:
    """What `text` shows that the actor may not know: titles and codes of resources they may not see; bodies,
    comments and "helped me" notes of resources they may not read; reasons of ratings on resources they do
    not manage; the label of a private question they may not see."""
    m = kworld.marks
    found = []
    for pk in knows.all - knows.view:
        for kind, marker in (("title", m.title[pk]), ("code", m.code[pk])):
            if marker in text:
                found.append(f"{kind} of unknown {m.code[pk]}")
    for pk in knows.all - knows.read:
        for kind, marker in (("body", m.body[pk]), ("comment", m.comment[pk]), ("note", m.note[pk])):
            if marker in text:
                found.append(f"{kind} of unreadable {m.code[pk]}")
    for pk in knows.all - knows.manage:
        if m.reason[pk] in text:
            found.append(f"rating reason of unmanaged {m.code[pk]}")
        if m.hidden[pk] in text:
            found.append(f"hidden comment of unmanaged {m.code[pk]}")
    return found


def checked(response, kworld: KWorld, knows: Knows, where: str) -> str:
    """The response's text after checking it leaks nothing; the address the caller typed (which the page
    repeats in its language switch) is left out."""
    text = text_of(response)
    path = response.wsgi_request.get_full_path()
    bare = text.replace(escape(path), "").replace(path, "")
    found = leaks(bare, kworld, knows)
    assert not found, f"{where}: {found}"
    return text


def _status(response, wanted: int, where: str) -> None:
    assert response.status_code == wanted, f"{where}: {response.status_code} != {wanted}"


# --- articles ------------------------------------------------------------------------------------------------------


def _check_article_routes(caller: Caller, kworld: KWorld) -> None:
    actor = caller.actor
    knows = Knows(actor, kworld)
    m = kworld.marks
    article_pks = knows.articles
    citations: dict[int, set[int]] = {}
    for c in Citation.objects.filter(article__in=kworld.articles).select_related("article"):
        citations.setdefault(c.article.resource_id, set()).add(c.cited_id)

    # Lists: the home, every space, the API list, the search page and API.
    response = caller.page("/knowledge/")
    if not is_signed_in(actor):
        _status(response, 302, f"{caller} /knowledge/")
    else:
        _status(response, 200, f"{caller} /knowledge/")
        checked(response, kworld, knows, f"{caller} /knowledge/")
        spaces = set(visible_departments(actor).values_list("pk", flat=True))
        for department in kworld.departments:
            where = f"{caller} space {department.pk}"
            response = caller.page(f"/knowledge/spaces/{department.pk}/")
            _status(response, 200 if department.pk in spaces else 404, where)
            text = checked(response, kworld, knows, where)
            if response.status_code == 200:
                for r in kworld.resources:
                    if r.pk in article_pks and r.owner_department_id == department.pk and r.pk in knows.view:
                        assert m.title[r.pk] in text, f"{where}: {r.code} missing from its space"

    response = caller.api_get("/articles", {"limit": 200})
    if not is_signed_in(actor):
        _status(response, 401, f"{caller} GET /articles")
    else:
        _status(response, 200, f"{caller} GET /articles")
        checked(response, kworld, knows, f"{caller} GET /articles")
        listed = {item["code"]: item for item in response.json()["items"]}
        wanted = {m.code[pk] for pk in article_pks & knows.view}
        assert set(listed) == wanted, f"{caller} GET /articles: {sorted(listed)} != {sorted(wanted)}"
        for pk in article_pks & knows.view:
            item = listed[m.code[pk]]
            assert item["readable"] is (pk in knows.read) and item["body"] is None, (caller, m.code[pk])

    for path, params in (("/search/", {"q": WORD}), ("/search/", {"q": WORD, "kind": "article"})):
        response = caller.page(path, params)
        if not is_signed_in(actor):
            _status(response, 302, f"{caller} search page")
            continue
        _status(response, 200, f"{caller} search page")
        text = checked(response, kworld, knows, f"{caller} search page {params}")
        for pk in article_pks & knows.view:
            assert m.code[pk] in text, f"{caller} search page: {m.code[pk]} not found"
    response = caller.api_get("/search", {"q": WORD, "page_size": 100})
    if is_signed_in(actor):
        _status(response, 200, f"{caller} GET /search")
        checked(response, kworld, knows, f"{caller} GET /search")
        found = {hit["code"] for hit in response.json()["results"]}
        wanted = {m.code[pk] for pk in article_pks & knows.view}
        assert found == wanted, f"{caller} GET /search: {sorted(found)} != {sorted(wanted)}"
        response = caller.api_get("/questions/similar", {"title": f"知识 {WORD}"})
        _status(response, 200, f"{caller} similar")
        checked(response, kworld, knows, f"{caller} similar")
        published = {r.pk for r in kworld.resources if r.status == Resource.Status.PUBLISHED}
        allowed = {m.code[pk] for pk in article_pks & knows.view & published}
        similar = {a["code"] for a in response.json()["articles"]}
        assert similar <= allowed and len(similar) == min(len(allowed), 5), f"{caller} similar: {sorted(similar)}"

    # One by one: the article page and form, the catalog page (its "cited by" panel), the API.
    for r in kworld.resources:
        code, pk = r.code, r.pk
        is_article = pk in article_pks
        routes = [(f"/resources/{code}/", Action.VIEW)]
        if is_article:
            routes += [
                (f"/knowledge/articles/{code}/", Action.VIEW),
                (f"/knowledge/articles/{code}/edit/", Action.EDIT),
            ]
        for path, action in routes:
            where = f"{caller} {path}"
            response = caller.page(path)
            _status(response, expected_page(actor, action, r), where)
            text = checked(response, kworld, knows, where)
            if response.status_code == 200 and action == Action.VIEW:
                assert m.title[pk] in text, where
                assert (m.body[pk] in text) is (pk in knows.read), f"{where}: body shown iff READ"
                assert (m.comment[pk] in text) is (pk in knows.read), f"{where}: comment shown iff READ"
                assert (m.note[pk] in text) is (pk in knows.read), f"{where}: note shown iff READ"
                assert (m.reason[pk] in text) is (pk in knows.manage), f"{where}: reason shown iff MANAGE"
                citing = {a for a, cited in citations.items() if pk in cited}
                for a in citing:
                    assert (m.title[a] in text) is (a in knows.view), f"{where}: citing article {m.code[a]}"

        where = f"{caller} GET /articles/cited-by/{code}"
        response = caller.api_get(f"/articles/cited-by/{code}")
        _status(response, expected_api(actor, Action.VIEW, r), where)
        checked(response, kworld, knows, where)
        if response.status_code == 200:
            got = {item["code"] for item in response.json()}
            wanted = {m.code[a] for a, cited in citations.items() if pk in cited and a in knows.view}
            assert got == wanted, f"{where}: {sorted(got)} != {sorted(wanted)}"
        if not is_article:
            continue
        where = f"{caller} GET /articles/{code}"
        response = caller.api_get(f"/articles/{code}")
        _status(response, expected_api(actor, Action.VIEW, r), where)
        checked(response, kworld, knows, where)
        if response.status_code == 200:
            body = response.json()["body"]
            assert body == (f"{m.body[pk]} 正文" if pk in knows.read else None), where
        where = f"{caller} GET /articles/{code}/citations"
        response = caller.api_get(f"/articles/{code}/citations")
        _status(response, expected_api(actor, Action.READ, r), where)
        checked(response, kworld, knows, where)
        if response.status_code == 200:
            got = {item["code"] for item in response.json()}
            wanted = {m.code[c] for c in citations.get(pk, set()) & knows.view}
            assert got == wanted, f"{where}: {sorted(got)} != {sorted(wanted)}"


@PROPERTY_SETTINGS
@given(spec=knowledge_specs())
def test_articles_appear_on_every_route_iff_the_policy_lets_one_see_them(spec: KnowledgeSpec):
    with transaction.atomic():
        kworld = build(spec)
        for actor in kworld.everyone:
            _check_article_routes(Caller(actor, bearer=True), kworld)
        transaction.set_rollback(True)


# --- comments, ratings, "this helped me" ------------------------------------------------------------------------------


def _check_social(caller: Caller, kworld: KWorld) -> None:
    actor = caller.actor
    knows = Knows(actor, kworld)
    m = kworld.marks
    for r in kworld.resources:
        code, pk = r.code, r.pk
        if is_signed_in(actor):
            assert bool(decide_comment(actor, CommentAction.WRITE, r)) is (pk in knows.read)
            assert bool(decide_feedback(actor, FeedbackAction.COUNT, r)) is (pk in knows.view)
        where = f"{caller} GET /resources/{code}/comments"
        response = caller.api_get(f"/resources/{code}/comments", {"limit": 200})
        _status(response, expected_api(actor, Action.READ, r), where)
        text = checked(response, kworld, knows, where)
        if response.status_code == 200:
            assert m.comment[pk] in text, where
            assert (m.hidden[pk] in text) is (pk in knows.manage), f"{where}: a hidden comment's text iff MANAGE"

        where = f"{caller} GET /resources/{code}/rating"
        response = caller.api_get(f"/resources/{code}/rating")
        _status(response, expected_api(actor, Action.VIEW, r), where)
        checked(response, kworld, knows, where)
        if response.status_code == 200:
            data = response.json()
            assert (data["useful"], data["not_useful"]) == (0, 1), where  # counts for whoever sees the entry
            assert (data["reasons"] is not None) is (pk in knows.manage), where

        for path, expect in (
            (f"/resources/{code}/helped", expected_api),
            (f"/knowledge/r/{code}/helped/", expected_page),
        ):
            where = f"{caller} GET {path}"
            api = path.startswith("/resources")
            response = caller.api_get(path) if api else caller.page(path)
            _status(response, expect(actor, Action.READ, r), where)
            text = checked(response, kworld, knows, where)
            if response.status_code == 200:
                assert m.note[pk] in text, where
                if api:
                    assert response.json()["count"] == 1, where

        # The comments panel (htmx) and the page of comments answer like the resource's content.
        where = f"{caller} GET /knowledge/r/{code}/comments/"
        response = caller.client.get(f"/knowledge/r/{code}/comments/", HTTP_HX_REQUEST="true")
        _status(response, expected_page(actor, Action.READ, r), where)
        text = checked(response, kworld, knows, where)
        if response.status_code == 200:
            assert m.comment[pk] in text, where
            assert (m.hidden[pk] in text) is (pk in knows.manage), f"{where}: a hidden comment's text iff MANAGE"

    if not is_signed_in(actor):
        return
    # Notifications: only readers were told of a mention, and nothing in them leaks.
    response = caller.api_get("/notifications", {"limit": 200})
    _status(response, 200, f"{caller} GET /notifications")
    checked(response, kworld, knows, f"{caller} GET /notifications")


def _check_mentions(kworld: KWorld) -> None:
    """Each comment's mention event names exactly the mentioned active people (not its writer) who may read the
    resource; and each of them, only them, got the notification."""
    told: dict[int, set[int]] = {}
    for event in Event.objects.filter(action="comment.mentioned"):
        resource_id = event.details["resource_id"]
        told.setdefault(resource_id, set()).update(event.details["recipients"])
    users = {u.pk: u for u in kworld.everyone if getattr(u, "pk", None) is not None}
    for r in kworld.resources:
        wanted = {
            pk
            for pk in kworld.mentioned.get(r.pk, set())
            if pk != kworld.commenter[r.pk]
            and users[pk].is_active
            and not users[pk].is_service
            and can(users[pk], Action.READ, r)
        }
        assert told.get(r.pk, set()) == wanted, f"{r.code}: told {sorted(told.get(r.pk, set()))} != {sorted(wanted)}"
    from sharehub.feeds.models import Notification

    notified = {}
    for n in Notification.objects.filter(event__action="comment.mentioned").select_related("event"):
        notified.setdefault(n.event.details["resource_id"], set()).add(n.recipient_id)
    for r in kworld.resources:
        assert notified.get(r.pk, set()) <= told.get(r.pk, set()), r.code


@PROPERTY_SETTINGS
@given(spec=knowledge_specs())
def test_comments_ratings_and_helped_show_content_iff_one_reads_the_resource(spec: KnowledgeSpec):
    with transaction.atomic():
        kworld = build(spec)
        _check_mentions(kworld)
        for actor in kworld.everyone:
            _check_social(Caller(actor, bearer=True), kworld)
        transaction.set_rollback(True)


# --- sessions -------------------------------------------------------------------------------------------------------


def _check_sessions(caller: Caller, kworld: KWorld) -> None:
    actor = caller.actor
    signed_in = is_signed_in(actor)
    response = caller.page("/sessions/")
    _status(response, 200 if signed_in else 302, f"{caller} /sessions/")
    response = caller.api_get("/sessions", {"when": "all", "limit": 100})
    _status(response, 200 if signed_in else 401, f"{caller} GET /sessions")
    if signed_in:
        listed = {item["id"] for item in response.json()["items"]}
        assert listed == {s.pk for s in kworld.sessions}, f"{caller}: everyone signed in sees every session"
    for session in kworld.sessions:
        fresh = Session.objects.prefetch_related("speakers").get(pk=session.pk)
        manage = signed_in and bool(decide_session(actor, SessionAction.MANAGE, fresh))
        see = signed_in and bool(decide_session(actor, SessionAction.SEE, fresh))
        assert see is signed_in
        base = f"/sessions/{session.pk}/"
        response = caller.page(base)
        _status(response, 200 if see else 302, f"{caller} {base}")
        if see:
            text = text_of(response)
            shows = f"/sessions/{session.pk}/attendance/" in text or 'id="attendance"' in text
            assert shows is manage, f"{caller} {base}: the attendance panel iff MANAGE"
            assert (f"{base}edit/" in text) is manage, f"{caller} {base}: the edit link iff MANAGE"
        response = caller.api_get(f"/sessions/{session.pk}")
        _status(response, 200 if see else 401, f"{caller} GET /sessions/{session.pk}")
        if see:
            assert response.json()["can_manage"] is manage
        # Management routes: 403 for those who see but may not manage; never a 403 for organizers.
        response = caller.page(f"{base}edit/")
        _status(response, (200 if manage else 403) if see else 302, f"{caller} {base}edit/")
        if not manage:  # (organizers' attendance is not marked here: it would change the world under the others)
            response = caller.api_post(f"/sessions/{session.pk}/attendance", {"present": []})
            _status(response, 403 if see else 401, f"{caller} attendance")
        if see and not manage:
            response = caller.page_post(f"{base}attendance/", {})
            _status(response, 403, f"{caller} {base}attendance/")
        # Materials: what the sessions code serves is what decide_session SEE allows (sessions are open).
        for material in fresh.materials.all():
            response = caller.page(f"{base}materials/{material.pk}/")
            _status(response, 200 if see else 302, f"{caller} material page")
            response = caller.api_get(f"/sessions/{session.pk}/materials/{material.pk}")
            _status(response, 200 if see else 401, f"{caller} material API")
            if see and not manage:
                response = caller.client.post(f"{base}materials/{material.pk}/remove/")
                _status(response, 403, f"{caller} material remove")


@PROPERTY_SETTINGS
@given(spec=knowledge_specs(with_sessions=True))
def test_sessions_are_open_and_managed_only_by_organizers(spec: KnowledgeSpec):
    with transaction.atomic():
        kworld = build(replace(spec, articles=spec.articles[:1], grants=()))
        for actor in kworld.everyone:
            _check_sessions(Caller(actor, bearer=True), kworld)
        transaction.set_rollback(True)


# --- recognition ----------------------------------------------------------------------------------------------------


def _check_recognition(caller: Caller, kworld: KWorld) -> None:
    actor = caller.actor
    knows = Knows(actor, kworld)
    m = kworld.marks
    signed_in = is_signed_in(actor)
    lines = list(Credit.objects.all())
    subjects = sorted({c.person_id for c in lines if c.person_id})
    question = None
    if kworld.question_pk is not None:
        from sharehub.knowledge.models import Question

        question = Question.objects.select_related("resource").get(pk=kworld.question_pk)

    def expect_items(text: str, credits, detail: bool, where: str) -> None:
        for c in credits:
            kind, _sep, ident = c.item.partition(":")
            if kind == "resource" and int(ident) in knows.all:
                shown = m.title[int(ident)] in text
                assert shown is (detail and int(ident) in knows.view), f"{where}: {c.item} shown={shown}"
            if kind == "answer":
                may = signed_in and bool(decide_question(actor, QuestionAction.SEE, question))
                assert (kworld.question_label in text) is (detail and may), f"{where}: private question label"

    for subject in subjects:
        departments = set(Membership.objects.filter(user_id=subject).values_list("department_id", flat=True))
        detail = signed_in and bool(decide_recognition_detail(actor, subject, departments))
        credits = [c for c in lines if c.person_id == subject]
        where = f"{caller} GET /recognition/people/{subject}"
        response = caller.api_get(f"/recognition/people/{subject}", {"period": "all", "page_size": 200})
        _status(response, 200 if signed_in else 401, where)
        text = checked(response, kworld, knows, where)
        if signed_in:
            assert response.json()["lines_visible"] is detail, where
            expect_items(text, credits, detail, where)
        where = f"{caller} /recognition/people/{subject}/"
        response = caller.page(f"/recognition/people/{subject}/", {"period": "all"})
        _status(response, 200 if signed_in else 302, where)
        text = checked(response, kworld, knows, where)
        if signed_in:
            expect_items(text, credits, detail, where)
    for department in kworld.departments:
        detail = signed_in and bool(decide_recognition_detail(actor, None, {department.pk}))
        credits = [c for c in lines if c.department_id == department.pk]
        where = f"{caller} /recognition/departments/{department.pk}/"
        response = caller.page(f"/recognition/departments/{department.pk}/", {"period": "all"})
        _status(response, 200 if signed_in else 302, where)
        text = checked(response, kworld, knows, where)
        if signed_in:
            expect_items(text, credits, detail, where)
        response = caller.api_get(f"/recognition/departments/{department.pk}", {"period": "all", "page_size": 200})
        if signed_in:
            assert response.json()["lines_visible"] is detail, where
            expect_items(text_of(response), credits, detail, where)
    if signed_in and not actor.is_service:
        response = caller.page("/recognition/me/", {"period": "all"})
        _status(response, 200, f"{caller} /recognition/me/")
        text = checked(response, kworld, knows, f"{caller} /recognition/me/")
        expect_items(text, [c for c in lines if c.person_id == actor.pk], True, f"{caller} /recognition/me/")
        response = caller.api_get("/recognition/me", {"period": "all", "page_size": 200})
        text = checked(response, kworld, knows, f"{caller} GET /recognition/me")
        expect_items(text, [c for c in lines if c.person_id == actor.pk], True, f"{caller} GET /recognition/me")


@PROPERTY_SETTINGS
@given(spec=knowledge_specs())
def test_recognition_names_an_item_iff_the_viewer_may_see_it_now(spec: KnowledgeSpec):
    with transaction.atomic():
        kworld = build(spec)
        # Credits record titles when earned; a revoked grant or a narrowed scope later must hide them again.
        for actor in kworld.everyone:
            _check_recognition(Caller(actor, bearer=True), kworld)
        transaction.set_rollback(True)
