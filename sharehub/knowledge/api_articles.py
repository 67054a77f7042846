"""REST API of the knowledge side: articles. Thin: every read goes through `articles`' policy-filtered reads
(unknown or invisible articles are 404), every write through its services (the catalog's for publishing)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from django.db.models import Prefetch
from django.urls import reverse
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.errors import Invalid
from sharehub.knowledge import articles
from sharehub.knowledge.models import Article
from sharehub.org.schemas import StrictSchema
from sharehub.policy.engine import Action, can
from sharehub.validation import MAX_DB_INT, BodyId, BodyInt

router = Router(tags=["knowledge"])

MAX_PAGE = 200
Text200 = Annotated[str, Field(max_length=200)]
Text2000 = Annotated[str, Field(max_length=2000)]
Text4000 = Annotated[str, Field(max_length=4000)]
Body = Annotated[str, Field(max_length=catalog.MAX_BODY_CHARS)]


class SpaceRef(Schema):
    id: int
    name: str


class ArticleOut(Schema):
    id: int
    code: str
    title: str
    summary: str
    body: str | None = Field(description="Markdown; null when the caller may see the entry but not read it")
    readable: bool
    department: SpaceRef
    parent: int | None
    position: int
    template: str
    sharing_type: str
    status: str
    version: int
    credited_to: int | None
    from_answer: int | None
    updated_at: datetime
    published_at: datetime | None
    url: str


class ArticlePage(Schema):
    items: list[ArticleOut]
    next_cursor: str | None


class ArticleCreateIn(Schema):
    department: BodyId
    title: Text200
    body: Body = ""
    summary: Text2000 = ""
    parent: BodyId | None = None
    template: Article.Template = Article.Template.BLANK
    publish: bool = False
    sharing_type: Resource.SharingType = Resource.SharingType.OPEN
    scope_all: bool = True
    scope_departments: list[BodyId] = Field(default_factory=list, max_length=500)
    conditions: Text4000 | None = None
    restriction_basis: Text4000 | None = None
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=20)
    citations: list[BodyId] = Field(default_factory=list, max_length=articles.MAX_CITATIONS)


class ArticlePatchIn(StrictSchema):
    title: Text200 | None = None
    body: Body | None = None
    summary: Text2000 | None = None
    tags: list[Annotated[str, Field(max_length=50)]] | None = Field(None, max_length=20)
    sharing_type: Resource.SharingType | None = None
    scope_all: bool | None = None
    scope_departments: list[BodyId] | None = Field(None, max_length=500)
    conditions: Text4000 | None = None
    restriction_basis: Text4000 | None = None
    note: Annotated[str, Field(max_length=300)] = ""


class MoveIn(StrictSchema):
    parent: BodyId | None = Field(None, description="The new parent page's id; null for the top of the space")
    position: BodyInt | None = Field(None, description="0 is first among the new siblings; null: last")


class CitationsIn(Schema):
    resources: list[BodyId] = Field(max_length=articles.MAX_CITATIONS)


class CitedOut(Schema):
    id: int
    code: str
    title: str
    kind: str
    department: SpaceRef


def _serialize(actor, article: Article, *, with_body: bool) -> dict:
    resource = article.resource
    readable = bool(can(actor, Action.READ, resource))
    return {
        "id": article.pk,
        "code": resource.code,
        "title": resource.title,
        "summary": resource.summary,
        "body": resource.body if readable and with_body else None,
        "readable": readable,
        "department": {"id": resource.owner_department_id, "name": resource.owner_department.name},
        "parent": article.parent_id,
        "position": article.position,
        "template": article.template,
        "sharing_type": resource.sharing_type,
        "status": resource.status,
        "version": resource.version,
        "credited_to": article.credited_to_id,
        "from_answer": article.from_answer_id,
        "updated_at": resource.updated_at,
        "published_at": resource.published_at,
        "url": reverse("knowledge:article", args=[resource.code]),
    }


def _one(actor, code, action: Action = Action.VIEW) -> Article:
    return articles.access_article(actor, code, action)


def _read_one(request, code) -> dict:
    article = _one(request.user, code)
    data = _serialize(request.user, article, with_body=True)
    if data["readable"]:
        catalog.note_content_read(request.user, [article.resource], via="api")
    return data


def _cursor(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise Invalid(fields={"cursor": _("This cursor is not one the API gave out.")})
    return int(raw)


@router.get("/articles", response=ArticlePage, summary="Articles the caller may see (no bodies), newest first")
def list_articles(
    request,
    department: int | None = Query(None, ge=1, le=MAX_DB_INT, description="Only this department's space"),
    parent: int | None = Query(None, ge=1, le=MAX_DB_INT, description="Only the sub-pages of this article"),
    top: bool = Query(False, description="Only the pages at the top of their space"),
    cursor: str | None = Query(None, description="`next_cursor` of the previous page"),
    limit: int = Query(50, ge=1, le=MAX_PAGE),
):
    found = (
        articles.visible_articles(request.user)
        .defer("resource__body")
        .prefetch_related(Prefetch("resource__scope_departments"))
    )
    if department is not None:
        found = found.filter(resource__owner_department_id=department)
    if parent is not None:
        found = found.filter(parent_id=parent)
    if top:
        found = found.filter(parent__isnull=True)
    after = _cursor(cursor)
    if after is not None:
        found = found.filter(pk__lt=after)
    page = list(found.order_by("-pk")[: limit + 1])
    more = len(page) > limit
    page = page[:limit]
    return {
        "items": [_serialize(request.user, a, with_body=False) for a in page],
        "next_cursor": str(page[-1].pk) if more else None,
    }


@router.get("/articles/{code}", response=ArticleOut, summary="One article by its code; the body if you may read it")
def get_article(request, code: str):
    return _read_one(request, code)


@router.post("/articles", response={201: ArticleOut}, summary="Write an article (a draft unless `publish`)")
def create_article(request, payload: ArticleCreateIn):
    fields = payload.model_dump(mode="json", exclude_unset=True)
    for name in ("department", "title", "parent", "template", "publish", "citations"):
        fields.pop(name, None)
    if fields.get("tags") is None:
        fields.pop("tags", None)
    for name in ("conditions", "restriction_basis"):
        if fields.get(name) is None:
            fields.pop(name, None)
    article = articles.create_article(
        request.user,
        department=payload.department,
        title=payload.title,
        parent=payload.parent,
        template=payload.template.value,
        publish=payload.publish,
        citations=payload.citations,
        **fields,
    )
    return Status(201, _read_one(request, article.resource.code))


@router.patch(
    "/articles/{code}", response=ArticleOut, summary="Edit an article (a new version); sharing if you manage it"
)
def update_article(request, code: str, payload: ArticlePatchIn):
    article = _one(request.user, code, Action.EDIT)
    changes = payload.model_dump(mode="json", exclude_unset=True)
    note = changes.pop("note", "")
    for name in ("title", "body", "summary", "sharing_type", "scope_all", "tags", "scope_departments"):
        if name in changes and changes[name] is None:
            changes.pop(name)
    articles.update_article(request.user, article, changes, note=note)
    return _read_one(request, code)


@router.post("/articles/{code}/move", response=ArticleOut, summary="Move an article in its space's tree")
def move_article(request, code: str, payload: MoveIn):
    article = _one(request.user, code, Action.EDIT)
    articles.move_article(request.user, article, payload.parent, payload.position)
    return _read_one(request, code)


@router.post("/articles/{code}/publish", response=ArticleOut, summary="Publish a draft article (stewards, heads)")
def publish_article(request, code: str):
    article = _one(request.user, code, Action.MANAGE)
    catalog.transition(request.user, article.resource, "publish")
    return _read_one(request, code)


@router.get("/articles/{code}/citations", response=list[CitedOut], summary="What the article cites (that you may see)")
def get_citations(request, code: str):
    article = _one(request.user, code, Action.READ)
    return [_cited(r) for r in articles.cites_of(request.user, article)]


@router.put("/articles/{code}/citations", response=list[CitedOut], summary="Replace what the article cites")
def put_citations(request, code: str, payload: CitationsIn):
    article = _one(request.user, code, Action.EDIT)
    articles.set_citations(request.user, article, payload.resources)
    return [_cited(r) for r in articles.cites_of(request.user, article)]


@router.get(
    "/articles/cited-by/{ident}", response=list[ArticleOut], summary="The articles citing a resource (you may see)"
)
def cited_by(request, ident: str):
    from sharehub.catalog import queries

    resource = queries.access_resource(request.user, ident)
    found = (
        articles.cited_by(request.user, resource)
        .defer("resource__body")
        .prefetch_related("resource__scope_departments")
    )
    return [_serialize(request.user, a, with_body=False) for a in found[:MAX_PAGE]]


def _cited(resource: Resource) -> dict:
    return {
        "id": resource.pk,
        "code": resource.code,
        "title": resource.title,
        "kind": resource.kind,
        "department": {"id": resource.owner_department_id, "name": resource.owner_department.name},
    }
