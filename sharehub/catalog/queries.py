"""Every read of the catalog goes through the policy filter here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    prefetch_related_objects,
)
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from sharehub.catalog.models import Attachment, DraftReview, Project, Resource, ResourceVersion, Tag
from sharehub.catalog.snapshots import referenced_codes, without_codes
from sharehub.errors import Forbidden, NotFound
from sharehub.org.models import Membership, User
from sharehub.policy.engine import Action, can, decidable, resource_sql, visible
from sharehub.validation import parse_id


def _base() -> QuerySet[Resource]:
    return Resource.objects.select_related(
        "owner_department", "steward", "category__parent", "data_grade", "project"
    ).prefetch_related("tags", "scope_departments")


def resource_key(ident: int | str) -> tuple[str, int | str] | None:
    """("pk", id) or ("code", code) for what a URL or a caller names a resource by; None when it can be
    neither (such a name finds nothing)."""
    text = str(ident)
    if "\x00" in text or len(text) > 64:
        return None
    pk = parse_id(text)
    return ("pk", pk) if pk is not None else ("code", text)


def authorize(actor, resource: Resource | None, action: Action = Action.VIEW) -> Resource:
    """`resource` (as fetched by key, or None) if the actor may do `action` on it.

    A caller who may not see the entry gets NotFound whether or not it exists; one who sees the
    entry but may not do `action` gets Forbidden with the policy's reason."""
    if resource is None or not can(actor, Action.VIEW, resource):
        raise NotFound()
    if action != Action.VIEW:
        decision = can(actor, action, resource)
        if not decision:
            raise Forbidden(decision.message)
    return resource


def access_resource(actor, ident: int | str, action: Action = Action.VIEW) -> Resource:
    """Fetch a resource by id or code, with the catalog's related rows, and authorize `action` (see
    `authorize`)."""
    key = resource_key(ident)
    if key is None:
        raise NotFound()
    # One row by key: fetched as is and decided in memory by the same policy, which costs less than
    # compiling the policy's filter into the query (issue 11: 1.9 ms of a 11 ms GET under load).
    found = list(_base().filter(**{key[0]: key[1]}).order_by()[:1])  # by key: no ORDER BY to compile or run
    return authorize(actor, found[0] if found else None, action)


@dataclass
class ResourceFilters:
    department: int | None = None
    kind: str | None = None
    tag: str | None = None
    sharing_type: str | None = None
    status: str | None = None
    category: int | None = None
    updated_since: datetime | None = None
    text: str | None = None
    include_subdepartments: bool = True
    archived: bool = True  # include archived entries (the catalog page leaves them out unless asked)


class _PolicySQL(RawSQL):
    """The policy's precompiled filter. It names the resource table as the outermost query does, so it
    refuses to be renamed: put inside another query (a subquery, Exists, pk__in) its table would get
    another alias and this SQL would test the outer query's rows instead, a silent leak."""

    def relabeled_clone(self, change_map):
        if change_map:
            raise TypeError("a queryset filtered by the precompiled policy SQL cannot be used inside another query")
        return self


def _visible_as_compiled_sql(actor, queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """`visible(actor, queryset)` with the policy's filter as the SQL it compiles to once per actor
    context (`policy.engine.resource_sql`), instead of building and compiling it again with the ORM
    for each query (a tenth of the catalog page). Only for a queryset run as it is: used as a subquery,
    its table would be renamed and this SQL would not follow."""
    sql, params = resource_sql(actor, Action.VIEW)
    return queryset.filter(_PolicySQL(sql, params, output_field=BooleanField()))


def list_resources(actor, filters: ResourceFilters | None = None, *, run_as_is: bool = False) -> QuerySet[Resource]:
    """Resources the actor may see, filtered; newest change first.

    `run_as_is`: the caller runs the queryset (or its counts, its slices) itself and never puts it in
    another query; the policy's filter then comes as precompiled SQL (`_visible_as_compiled_sql`)."""
    filters = filters or ResourceFilters()
    queryset = _visible_as_compiled_sql(actor, _base()) if run_as_is else visible(actor, _base(), Action.VIEW)
    if filters.department:
        if filters.include_subdepartments:
            queryset = queryset.filter(
                Q(owner_department_id=filters.department)
                | Q(owner_department__path__contains=f"/{int(filters.department)}/")
            )
        else:
            queryset = queryset.filter(owner_department_id=filters.department)
    if filters.kind:
        queryset = queryset.filter(kind=filters.kind)
    if filters.tag:
        queryset = queryset.filter(
            pk__in=Resource.tags.through.objects.filter(tag__name=filters.tag).values("resource_id")
        )
    if filters.sharing_type:
        queryset = queryset.filter(sharing_type=filters.sharing_type)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if not filters.archived and filters.status != Resource.Status.ARCHIVED:
        queryset = queryset.exclude(status=Resource.Status.ARCHIVED)
    if filters.category:
        queryset = queryset.filter(category_id=filters.category)
    if filters.updated_since:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.text:
        queryset = queryset.filter(
            Q(title__icontains=filters.text) | Q(summary__icontains=filters.text) | Q(code__iexact=filters.text)
        )
    return queryset.order_by("-updated_at", "-id")


class Sort:
    """The orders of the catalog list."""

    NEWEST = "newest"
    TITLE = "title"
    DEPARTMENT = "department"
    REQUESTED = "requested"
    ALL = (NEWEST, TITLE, DEPARTMENT, REQUESTED)


def _request_count():
    """How many access requests a resource has had (any outcome), as one correlated subquery."""
    requests = Resource._meta.get_field("access_requests").related_model
    counted = (
        requests.objects.filter(resource_id=OuterRef("pk"))
        .order_by()
        .values("resource_id")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def sort_resources(queryset: QuerySet[Resource], sort: str) -> QuerySet[Resource]:
    """Order a (policy-filtered) list; "requested" also annotates `request_count`. Ties go newest first."""
    if sort == Sort.TITLE:
        return queryset.order_by("title", "-updated_at", "-id")
    if sort == Sort.DEPARTMENT:
        return queryset.order_by("owner_department__name", "owner_department_id", "-updated_at", "-id")
    if sort == Sort.REQUESTED:
        return queryset.annotate(request_count=_request_count()).order_by("-request_count", "-updated_at", "-id")
    return queryset.order_by("-updated_at", "-id")


def _pending_reviews() -> QuerySet[DraftReview]:
    return DraftReview.objects.filter(outcome=DraftReview.Outcome.PENDING)


def with_review_state(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    """Annotate `in_review`: the draft waits for review (one correlated subquery, not a query per row)."""
    return queryset.annotate(in_review=Exists(_pending_reviews().filter(resource_id=OuterRef("pk"))))


def review_queue(actor, department: int | None = None) -> QuerySet[DraftReview]:
    """Drafts submitted for review that the actor may review (the policy's REVIEW filter), oldest first."""
    reviewable = visible(actor, Resource.objects.filter(status=Resource.Status.DRAFT), Action.REVIEW)
    queryset = _pending_reviews().filter(resource__in=reviewable.values("pk"))
    if department:
        queryset = queryset.filter(resource__owner_department_id=department)
    return queryset.select_related("resource", "resource__owner_department", "submitted_by").order_by(
        "submitted_at", "id"
    )


def latest_review(resource: Resource) -> DraftReview | None:
    """The newest review of a resource. Call only with a resource obtained with Action.EDIT."""
    return resource.reviews.select_related("submitted_by", "decided_by").order_by("-submitted_at", "-id").first()


def readable_ids(actor, resources: list[Resource]) -> set[int]:
    """Which of these resources, fetched by `_base()` (scope prefetched), the actor may read the content
    of: decided in memory, no query."""
    return {r.pk for r in resources if can(actor, Action.READ, r)}


def related_visible_ids(actor, resources: list[Resource]) -> set[int]:
    """The entries related to these resources that the actor may see: fetched for all of them together
    with what the policy reads (two queries, none when already fetched) and decided in memory.
    `related_visible` is the page's: one resource, its related entries in order."""
    prefetch_related_objects(resources, Prefetch("related", queryset=decidable(Resource.objects.all())))
    return {r.pk for resource in resources for r in resource.related.all() if can(actor, Action.VIEW, r)}


def versions_of(resource: Resource) -> QuerySet[ResourceVersion]:
    """Call only with a resource obtained through `access_resource(..., Action.READ)`."""
    return resource.versions.select_related("author").order_by("-number")


def visible_codes(actor, codes) -> set[str]:
    """Which of these resource codes name a resource the actor may see: one filtered query, none for no codes."""
    codes = {code for code in codes if isinstance(code, str)}
    if not codes:
        return set()
    return set(visible(actor, Resource.objects.filter(code__in=codes), Action.VIEW).values_list("code", flat=True))


def shown_snapshots(actor, versions) -> list[dict]:
    """The snapshots of these versions as the actor may see them now: codes of other resources the
    policy hides today are left out, whatever they were when the version was saved (invariant 10).
    One query for all the versions together."""
    versions = list(versions)
    shown = visible_codes(actor, referenced_codes(v.snapshot for v in versions))
    return [without_codes(v.snapshot, shown) for v in versions]


def attachments_of(resource: Resource) -> QuerySet[Attachment]:
    """Call only with a resource obtained through `access_resource(..., Action.READ)`."""
    return resource.attachments.filter(removed_at__isnull=True).select_related("blob", "uploaded_by")


def access_attachment(actor, resource_ident, attachment_id: int) -> tuple[Resource, Attachment]:
    resource = access_resource(actor, resource_ident, Action.READ)
    pk = parse_id(attachment_id)
    if pk is None:
        raise NotFound()
    attachment = attachments_of(resource).filter(pk=pk).first()
    if attachment is None:
        raise NotFound()
    return resource, attachment


# The long texts no list page shows. Left out of the rows a list fetches: SQLite sorts whole rows, so
# ordering the visible resources by date moved every body through its sort (6 of the home page's 11 ms
# of SQL on the demo).
_NOT_LISTED = ("body", "conditions", "restriction_basis", "terms_of_use")


def for_list_page(queryset: QuerySet[Resource], *, tags: bool = False) -> QuerySet[Resource]:
    """A (policy-filtered) resource queryset fetching what a list page shows of each row: the owner
    department, the tags if asked, no long text; not the joins and the scope `can()` needs."""
    queryset = queryset.select_related(None).select_related("owner_department").defer(*_NOT_LISTED)
    return queryset.prefetch_related(None).prefetch_related("tags") if tags else queryset.prefetch_related(None)


def recent_in_departments(actor, department_ids, limit: int = 10) -> QuerySet[Resource]:
    """For the home page's list (see `for_list_page`)."""
    queryset = list_resources(actor, run_as_is=True).filter(owner_department_id__in=list(department_ids))
    return for_list_page(queryset.exclude(status=Resource.Status.DRAFT))[:limit]


def recent_across(actor, limit: int = 10) -> QuerySet[Resource]:
    """For the home page's list (see `for_list_page`)."""
    return for_list_page(list_resources(actor, run_as_is=True).filter(status=Resource.Status.PUBLISHED))[:limit]


def catalog_rows(queryset: QuerySet[Resource], sort: str) -> QuerySet[Resource]:
    """The rows of the catalog page: sorted, with their review state, fetched for a list page (the
    tags by `with_tag_names` once the page is cut)."""
    return for_list_page(with_review_state(sort_resources(queryset, sort)))


def with_dataset_fields(resources: list[Resource]) -> list[Resource]:
    """Attach each dataset's field list to its row: one query for the page, none without datasets."""
    from sharehub.exchange.queries import field_lists

    ids = [r.pk for r in resources if r.kind == Resource.Kind.DATASET]
    lists = field_lists(ids) if ids else {}
    for resource in resources:
        resource._dataset_fields = lists.get(resource.pk, [])
    return resources


def with_tag_names(resources) -> list[Resource]:
    """The resources as a list, each with `tag_names` (sorted like the tags): one query of names, none
    for no resources. Cheaper than prefetch_related's related managers for a page of rows."""
    resources = list(resources)
    if not resources:
        return resources
    names: dict[int, list[str]] = {r.pk: [] for r in resources}
    rows = (
        Resource.tags.through.objects.filter(resource_id__in=list(names))
        .order_by("tag__name")
        .values_list("resource_id", "tag__name")
    )
    for resource_id, name in rows:
        names[resource_id].append(name)
    for r in resources:
        r.tag_names = names[r.pk]
    return resources


def prefetch_for_list(queryset: QuerySet[Resource]) -> QuerySet[Resource]:
    return queryset.prefetch_related(Prefetch("tags"))


# --- Added for the catalog pages -----------------------------------------------------------------


def related_visible(actor, resource: Resource) -> QuerySet[Resource]:
    """The resources related to `resource` that the actor may see (one filtered query)."""
    return visible(actor, resource.related.select_related("owner_department"), Action.VIEW).order_by("code")


def count_by(queryset: QuerySet[Resource], field_name: str) -> dict[str, int]:
    """How many rows of an (already policy-filtered) queryset have each value of `field_name`."""
    rows = queryset.prefetch_related(None).order_by().values_list(field_name).annotate(n=Count("pk"))
    return dict(rows)


def version_pair(resource: Resource, a: int, b: int) -> tuple[ResourceVersion, ResourceVersion]:
    """Two versions of a resource, older first. Call only with a resource obtained with Action.READ."""
    found = {v.number: v for v in versions_of(resource).filter(number__in=[a, b])}
    if a not in found or b not in found:
        raise NotFound()
    low, high = sorted((a, b))
    return found[low], found[high]


def publishable_department_ids(actor, departments) -> set[int]:
    """Of `departments` (those the actor may create in), where the policy lets the actor publish."""
    return {d.pk for d in departments if can(actor, Action.MANAGE, Resource(owner_department=d))}


def steward_candidates(department_ids, also_id: int | None = None) -> QuerySet[User]:
    """People who can be named steward of a resource owned by one of these departments (plus the
    current steward `also_id`, so that an edit form still shows them)."""
    stewards = Membership.objects.filter(
        department_id__in=list(department_ids), role__in=[Membership.Role.STEWARD, Membership.Role.HEAD]
    ).values("user_id")
    return User.objects.filter(Q(pk__in=stewards, is_active=True) | Q(pk=also_id)).order_by("display_name", "username")


def projects_of(department_ids) -> QuerySet[Project]:
    return Project.objects.filter(department_id__in=list(department_ids)).select_related("department")


def tag_named(name: str) -> Tag | None:
    name = name.strip()
    return Tag.objects.filter(name=name).first() if name else None
