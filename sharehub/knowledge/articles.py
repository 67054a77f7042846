"""Knowledge side: articles (services: every write validates, asks the policy, changes rows and records its event
in one transaction).

An article is a catalog resource of kind "article" (its sharing type, scope, versions, attachments and search
come from the catalog, through `sharehub.catalog.services`) plus an `Article` row: its place in its
department's space tree, the template it started from, whose know-how it is, and what it cites."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.knowledge.models import Answer, Article, Citation, Credit
from sharehub.org.models import Department, User
from sharehub.policy.engine import Action, can, visible
from sharehub.validation import parse_id

MAX_CITATIONS = 50
MAX_DEPTH = 12  # how deep a space tree may nest (the page shows breadcrumbs and an indented tree)

KIND = Resource.Kind.ARTICLE


# --- templates ---------------------------------------------------------------------------------------------


def skeleton(template: str) -> str:
    """The Markdown a new article starts from, in the active language ("" for a blank page)."""
    if template == Article.Template.HOWTO:
        return "\n\n".join(
            [
                "## " + _("Goal"),
                _("What this guide helps you do, and for whom."),
                "## " + _("Before you start"),
                "- " + _("What you need (access, tools, documents)"),
                "## " + _("Steps"),
                "1. " + _("First step") + "\n2. " + _("Second step") + "\n3. " + _("Third step"),
                "## " + _("Check the result"),
                _("How to tell it worked."),
                "## " + _("Common problems"),
                "- " + _("Problem: what to do"),
            ]
        )
    if template == Article.Template.FAQ:
        return "\n\n".join(
            [
                "## " + _("Question one?"),
                _("The answer, with a link to the source."),
                "## " + _("Question two?"),
                _("The answer, with a link to the source."),
                "## " + _("Still have a question?"),
                _("Ask the department on the Questions page."),
            ]
        )
    if template == Article.Template.LESSONS:
        return "\n\n".join(
            [
                "## " + _("Background"),
                _("What was done, when, and by whom."),
                "## " + _("What went well"),
                "- ",
                "## " + _("What went wrong"),
                "- ",
                "## " + _("Why"),
                _("The causes, as far as they are known."),
                "## " + _("What we will do differently"),
                "- ",
            ]
        )
    if template == Article.Template.MINUTES:
        return "\n\n".join(
            [
                "## " + _("Date and place"),
                "## " + _("Attendees"),
                "- ",
                "## " + _("Agenda"),
                "1. ",
                "## " + _("Decisions"),
                "- ",
                "## " + _("Action items"),
                "- [ ] " + _("Who does what, by when"),
            ]
        )
    return ""


# --- helpers -----------------------------------------------------------------------------------------------


def _department(value) -> Department:
    if isinstance(value, Department):
        return value
    pk = parse_id(value)
    department = Department.objects.filter(pk=pk).first() if pk else None
    if department is None:
        raise Invalid(fields={"department": _("No such department: %(value)s.") % {"value": value}})
    return department


def _article_or_none(value, field: str) -> Article | None:
    if value in (None, ""):
        return None
    if isinstance(value, Article):
        return value
    pk = parse_id(value)
    article = Article.objects.select_related("resource").filter(pk=pk).first() if pk else None
    if article is None:
        raise Invalid(fields={field: _("No such article.")})
    return article


def _check_parent(actor, parent: Article | None, department_id: int, article: Article | None = None) -> None:
    """The parent page must be an article of the same department that the actor may see, not the article itself
    nor one of its descendants, and the tree must not grow deeper than MAX_DEPTH."""
    if parent is None:
        return
    resource = parent.resource
    if not can(actor, Action.VIEW, resource):
        raise Invalid(fields={"parent": _("No such article.")})
    if resource.owner_department_id != department_id:
        raise Invalid(fields={"parent": _("The parent page must be in the same department's space.")})
    ancestors = _ancestor_ids(parent)
    if article is not None and (parent.pk == article.pk or article.pk in ancestors):
        raise Invalid(fields={"parent": _("A page cannot be placed under itself or under one of its sub-pages.")})
    depth = len(ancestors) + 1 + (_subtree_height(article) if article is not None else 1)
    if depth > MAX_DEPTH:
        raise Invalid(fields={"parent": _("Pages nest at most %(n)s levels deep.") % {"n": MAX_DEPTH}})


def _ancestor_ids(article: Article) -> list[int]:
    """The ids above `article`, nearest first (one query per level; trees are shallow)."""
    ids: list[int] = []
    parent_id = article.parent_id
    while parent_id is not None and parent_id not in ids and len(ids) <= MAX_DEPTH + 1:
        ids.append(parent_id)
        parent_id = Article.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    return ids


def _subtree_height(article: Article) -> int:
    """Levels in the subtree rooted at `article` (1 for a leaf)."""
    department_id = article.resource.owner_department_id
    children: dict[int | None, list[int]] = {}
    for pk, parent_id in Article.objects.filter(resource__owner_department_id=department_id).values_list(
        "pk", "parent_id"
    ):
        children.setdefault(parent_id, []).append(pk)
    height, level, seen = 0, [article.pk], set()
    while level:
        height += 1
        seen.update(level)
        level = [c for pk in level for c in children.get(pk, []) if c not in seen]
    return height


def _next_position(department_id: int, parent: Article | None) -> int:
    siblings = Article.objects.filter(resource__owner_department_id=department_id, parent=parent)
    last = siblings.aggregate(m=Max("position"))["m"]
    return 0 if last is None else last + 1


def _person(value, field: str) -> User | None:
    if value in (None, ""):
        return None
    if isinstance(value, User):
        return value
    pk = parse_id(value)
    person = User.objects.filter(pk=pk, is_active=True).first() if pk else None
    if person is None:
        raise Invalid(fields={field: _("No such person.")})
    return person


def _answer(value) -> Answer | None:
    if value in (None, ""):
        return None
    answer = value if isinstance(value, Answer) else None
    if answer is None:
        pk = parse_id(value)
        answer = Answer.objects.filter(pk=pk).first() if pk else None
    if answer is None:
        raise Invalid(fields={"from_answer": _("No such answer.")})
    if Article.objects.filter(from_answer=answer).exists():
        raise Conflict(_("This answer has already been made into an article."))
    return answer


def _locked(article: Article) -> Article:
    found = (
        Article.objects.select_for_update(of=("self",))
        .select_related("resource", "resource__owner_department")
        .filter(pk=article.pk)
        .first()
    )
    if found is None:
        raise NotFound()
    return found


def _require(decision) -> None:
    if not decision:
        raise Forbidden(decision.message)


# --- writes ------------------------------------------------------------------------------------------------


@transaction.atomic
def create_article(
    actor,
    *,
    department,
    title,
    body="",
    summary="",
    parent=None,
    template="blank",
    credited_to=None,
    from_answer=None,
    publish=False,
    sharing_type="open",
    scope_all=True,
    scope_departments=(),
    citations=None,
    **more_catalog_fields,
) -> Article:
    """Write a page into `department`'s knowledge space: the catalog resource (kind "article": policy, code,
    version 1, its events and search indexing, through `catalog.create_resource`) and its place in the tree,
    in one transaction. An empty body of a non-blank template starts from the template's skeleton."""
    department = _department(department)
    if template not in Article.Template.values:
        raise Invalid(fields={"template": _("Choose one of: %(choices)s.") % {"choices": ", ".join(Article.Template)}})
    parent = _article_or_none(parent, "parent")
    _require(can(actor, "create", department))
    _check_parent(actor, parent, department.pk)
    credited = _person(credited_to, "credited_to")
    answer = _answer(from_answer)
    if (body is None or body == "") and template != Article.Template.BLANK:
        body = skeleton(template)
    resource = catalog.create_resource(
        actor,
        owner_department=department,
        kind=KIND,
        publish=publish,
        knowledge_space=True,
        title=title,
        body=body,
        summary=summary,
        sharing_type=sharing_type,
        scope_all=scope_all,
        scope_departments=list(scope_departments or ()),
        **more_catalog_fields,
    )
    article = Article.objects.create(
        resource=resource,
        parent=parent,
        position=_next_position(department.pk, parent),
        template=template,
        credited_to=credited or (actor if getattr(actor, "pk", None) else None),
        from_answer=answer,
    )
    if citations:
        set_citations(actor, article, citations)
    return article


@transaction.atomic
def update_article(actor, article: Article, changes: dict, note: str = "") -> Article:
    """Edit an article: catalog fields go through `catalog.update_resource` (a new version and its event when
    anything changed); "parent" (and "position") move it, "citations" replace what it cites."""
    changes = dict(changes)
    moving = "parent" in changes or "position" in changes
    parent = changes.pop("parent", article.parent_id)
    position = changes.pop("position", None)
    citations = changes.pop("citations", None)
    if "template" in changes:
        changes.pop("template")  # only where it started; nothing to change later
    article = _locked(article)
    _require(can(actor, Action.EDIT, article.resource))
    if changes:
        article.resource = catalog.update_resource(actor, article.resource, changes, note=note)
    if moving:
        article = move_article(actor, article, parent, position)
    if citations is not None:
        set_citations(actor, article, citations)
    return article


@transaction.atomic
def move_article(actor, article: Article, parent, position=None) -> Article:
    """Place a page under `parent` (None: at the top of its space) at `position` among its new siblings (0 is
    first; None: last). Same department only; never under itself or its own sub-pages."""
    article = _locked(article)
    resource = article.resource
    _require(can(actor, Action.EDIT, resource))
    parent = _article_or_none(parent, "parent")
    _check_parent(actor, parent, resource.owner_department_id, article)
    if position is not None:
        if isinstance(position, str) and position.isascii() and position.isdigit() and len(position) < 7:
            position = int(position)
        if isinstance(position, bool) or not isinstance(position, int) or not 0 <= position <= 100_000:
            raise Invalid(fields={"position": _("A whole number from 0 to 100000.")})
    siblings = list(
        Article.objects.filter(resource__owner_department_id=resource.owner_department_id, parent=parent)
        .exclude(pk=article.pk)
        .order_by("position", "pk")
    )
    index = len(siblings) if position is None else min(position, len(siblings))
    old_parent_id, old_position = article.parent_id, article.position
    siblings.insert(index, article)
    for number, sibling in enumerate(siblings):
        if sibling.pk == article.pk:
            sibling.parent = parent
        if sibling.position != number or sibling.pk == article.pk:
            sibling.position = number
            sibling.save(update_fields=["parent", "position"])
    if (old_parent_id, old_position) == (article.parent_id, article.position):
        return article
    record(
        actor,
        "article.moved",
        resource,
        departments=[resource.owner_department_id],
        details={
            "code": resource.code,
            "resource_id": resource.pk,
            "parent": parent.resource.code if parent is not None else "",
            "position": article.position,
        },
    )
    return article


def _cited_resources(actor, resources: Iterable) -> list[Resource]:
    if resources is None:
        resources = []
    if isinstance(resources, str | bytes) or not isinstance(resources, Iterable):
        raise Invalid(fields={"citations": _("Citations must be a list of resource ids.")})
    ids = set()
    for item in resources:
        pk = item.pk if isinstance(item, Resource) else parse_id(item)
        if pk is None:
            raise Invalid(fields={"citations": _("Citations must be a list of resource ids.")})
        ids.add(pk)
    if len(ids) > MAX_CITATIONS:
        raise Invalid(fields={"citations": _("At most %(n)s citations.") % {"n": MAX_CITATIONS}})
    found = list(visible(actor, Resource.objects.filter(pk__in=ids)).order_by("pk"))
    if len(found) != len(ids):
        raise Invalid(fields={"citations": _("Some cited resources do not exist.")})
    return found


@transaction.atomic
def set_citations(actor, article: Article, resources) -> list[Citation]:
    """Replace what the article cites with `resources` (ids or Resources the actor may see; a page cannot cite
    itself). Citations of resources the editor cannot see are kept: the editor never saw them to remove them.
    Newly cited resources of other departments credit their owners (recognition) and tell their stewards."""
    article = _locked(article)
    resource = article.resource
    _require(can(actor, Action.EDIT, resource))
    wanted = [r for r in _cited_resources(actor, resources) if r.pk != resource.pk]
    current = {c.cited_id: c for c in Citation.objects.filter(article=article)}
    seen_ids = set(visible(actor, Resource.objects.filter(pk__in=current)).values_list("pk", flat=True))
    wanted_ids = {r.pk for r in wanted}
    removed = [c for pk, c in current.items() if pk in seen_ids and pk not in wanted_ids]
    added = [r for r in wanted if r.pk not in current]
    if not removed and not added:
        return list(Citation.objects.filter(article=article))
    removed_codes = list(Resource.objects.filter(pk__in=[c.cited_id for c in removed]).values_list("code", flat=True))
    Citation.objects.filter(pk__in=[c.pk for c in removed]).delete()
    Citation.objects.bulk_create([Citation(article=article, cited=r) for r in added])
    from sharehub.knowledge import points

    for cited in added:
        points.credit_for_resource(Credit.Kind.CITATION, actor=actor, resource=cited)
    recipients = sorted(
        {
            r.steward_id
            for r in added
            if r.steward_id and r.owner_department_id != resource.owner_department_id and r.steward_id != actor.pk
        }
    )
    record(
        actor,
        "article.citations_changed",
        resource,
        departments=sorted({resource.owner_department_id, *(r.owner_department_id for r in added)}),
        details={
            "code": resource.code,
            "resource_id": resource.pk,
            "title": resource.title,
            "added": [r.code for r in added],
            "removed": sorted(removed_codes),
            "recipients": recipients,
        },
    )
    return list(Citation.objects.filter(article=article))


# --- registration ------------------------------------------------------------------------------------------


def _article_link(details: dict) -> str:
    code = details.get("code", "")
    return f"/knowledge/articles/{code}/" if code else ""


def _describe_events() -> None:
    from django.utils.translation import gettext_lazy

    from sharehub.events import describe
    from sharehub.feeds import messages

    describe.register_area("article", gettext_lazy("Knowledge articles"))
    describe.register(
        "article.moved", gettext_lazy("Article moved"), gettext_lazy("%(actor)s moved the article %(target)s.")
    )
    describe.register(
        "article.citations_changed",
        gettext_lazy("Citations changed"),
        gettext_lazy("%(actor)s changed what the article %(target)s cites."),
    )
    describe.register_detail("parent", gettext_lazy("Parent page"), describe.RESOURCE, actions=("article.",))
    describe.register_detail("added", gettext_lazy("Now cited"), describe.RESOURCES, actions=("article.",))
    describe.register_detail("removed", gettext_lazy("No longer cited"), describe.RESOURCES, actions=("article.",))
    messages.register(
        "article.citations_changed",
        gettext_lazy("%(actor)s cited your resource in the article %(title)s."),
        _article_link,
    )


def register() -> None:
    """Called once from KnowledgeConfig.ready: event descriptions, notifications, the "cited by" panel."""
    from sharehub.knowledge import views_articles

    _describe_events()
    views_articles.register_panels()


# --- reads (always through the policy filter) --------------------------------------------------------------

MAX_TREE = 2000  # pages shown in one space's tree


def visible_articles(actor, action: Action = Action.VIEW):
    """The articles whose catalog entry `actor` may see (or do `action` on), with their resource fetched."""
    resources = visible(actor, Resource.objects.filter(kind=KIND), action)
    return Article.objects.filter(resource__in=resources.values("pk")).select_related(
        "resource", "resource__owner_department"
    )


def access_article(actor, code, action: Action = Action.VIEW) -> Article:
    """The article with this resource code (or id) if the actor may see it, checking `action` (NotFound for
    what they may not see, Forbidden with the policy's reason for what they see but may not do)."""
    from sharehub.catalog import queries

    resource = queries.access_resource(actor, code, action)
    if resource.kind != KIND:
        raise NotFound()
    article = Article.objects.filter(resource=resource).select_related("credited_to", "from_answer").first()
    if article is None:
        raise NotFound()
    article.resource = resource
    return article


def space_counts(actor) -> dict[int, int]:
    """{department id: number of articles the actor may see} in one query."""
    from django.db.models import Count

    rows = (
        visible(actor, Resource.objects.filter(kind=KIND))
        .order_by()
        .values("owner_department_id")
        .annotate(n=Count("pk"))
    )
    return {row["owner_department_id"]: row["n"] for row in rows}


def tree_of(actor, department_id: int) -> list[dict]:
    """The page tree of a space as the actor sees it: nested [{"article", "children": [...]}]. A page whose
    parent the actor may not see is shown at the top. One query."""
    articles = list(
        visible_articles(actor)
        .filter(resource__owner_department_id=department_id)
        .defer("resource__body", "resource__conditions", "resource__restriction_basis", "resource__terms_of_use")
        .order_by("position", "pk")[:MAX_TREE]
    )
    nodes = {a.pk: {"article": a, "children": []} for a in articles}
    roots = []
    for article in articles:
        node = nodes[article.pk]
        parent = nodes.get(article.parent_id)
        (parent["children"] if parent is not None else roots).append(node)
    return roots


def breadcrumbs(actor, article: Article) -> list[Article]:
    """The ancestors of an article that the actor may see, from the top (hidden ones are left out)."""
    ids = _ancestor_ids(article)
    if not ids:
        return []
    found = {a.pk: a for a in visible_articles(actor).filter(pk__in=ids)}
    return [found[pk] for pk in reversed(ids) if pk in found]


def children_of(actor, article: Article):
    return visible_articles(actor).filter(parent=article).order_by("position", "pk")


def cites_of(actor, article: Article):
    """What the article cites, as far as the actor may see it."""
    return (
        visible(actor, Resource.objects.filter(cited_by__article=article))
        .select_related("owner_department")
        .defer("body")
        .order_by("title", "pk")
    )


def cited_by(actor, resource: Resource):
    """The articles citing `resource` that the actor may see."""
    return visible_articles(actor).filter(citations__cited=resource).order_by("resource__title", "pk")


def recent_articles(actor, limit: int = 8):
    return (
        visible_articles(actor)
        .filter(resource__status=Resource.Status.PUBLISHED)
        .defer("resource__body")
        .order_by("-resource__published_at", "-pk")[:limit]
    )


def most_helpful(actor, limit: int = 8):
    """Published articles ranked by "this helped me" marks and useful ratings."""
    from django.db.models import Count, Q

    return (
        visible_articles(actor)
        .filter(resource__status=Resource.Status.PUBLISHED)
        .defer("resource__body")
        .annotate(
            helped_count=Count("resource__helped", distinct=True),
            useful_count=Count("resource__ratings", filter=Q(resource__ratings__useful=True), distinct=True),
        )
        .filter(Q(helped_count__gt=0) | Q(useful_count__gt=0))
        .order_by("-helped_count", "-useful_count", "-pk")[:limit]
    )


def citable(actor, text: str, limit: int = 10):
    """Resources (datasets included, articles too) the actor may see whose title or code contains `text`."""
    from django.db.models import Q

    text = (text or "").strip()[:100]
    if not text or "\x00" in text:
        return Resource.objects.none()
    return (
        visible(actor, Resource.objects.filter(Q(title__icontains=text) | Q(code__iexact=text)))
        .select_related("owner_department")
        .defer("body")
        .order_by("-updated_at", "-pk")[:limit]
    )


def resources_by_codes(actor, codes: Iterable[str]) -> list[Resource]:
    codes = [c.strip() for c in codes if c and c.strip() and len(c.strip()) <= 40]
    if not codes:
        return []
    return list(visible(actor, Resource.objects.filter(code__in=codes)))
