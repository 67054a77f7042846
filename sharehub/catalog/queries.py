"""Every read of the catalog goes through the policy filter here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Prefetch, Q, QuerySet

from sharehub.catalog.models import Attachment, Project, Resource, ResourceVersion
from sharehub.errors import Forbidden, NotFound
from sharehub.org.models import Membership, User
from sharehub.policy.engine import Action, can, visible
from sharehub.validation import parse_id


def _base() -> QuerySet[Resource]:
    return Resource.objects.select_related(
        "owner_department", "steward", "category", "data_grade", "project"
    ).prefetch_related("tags", "scope_departments")


def access_resource(actor, ident: int | str, action: Action = Action.VIEW) -> Resource:
    """Fetch a resource by id or code and authorize `action` in one call.

    A caller who may not see the entry gets NotFound whether or not it exists; one who sees the
    entry but may not do `action` gets Forbidden with the policy's reason.
    """
    text = str(ident)
    if "\x00" in text or len(text) > 64:
        raise NotFound()
    pk = parse_id(text)
    lookup = Q(pk=pk) if pk is not None else Q(code=text)
    resource = visible(actor, _base().filter(lookup), Action.VIEW).first()
    if resource is None:
        raise NotFound()
    if action != Action.VIEW:
        decision = can(actor, action, resource)
        if not decision:
            raise Forbidden(decision.message)
    return resource


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


def list_resources(actor, filters: ResourceFilters | None = None) -> QuerySet[Resource]:
    """Resources the actor may see, filtered; newest change first."""
    filters = filters or ResourceFilters()
    queryset = visible(actor, _base(), Action.VIEW)
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
    if filters.category:
        queryset = queryset.filter(category_id=filters.category)
    if filters.updated_since:
        queryset = queryset.filter(updated_at__gte=filters.updated_since)
    if filters.text:
        queryset = queryset.filter(
            Q(title__icontains=filters.text) | Q(summary__icontains=filters.text) | Q(code__iexact=filters.text)
        )
    return queryset.order_by("-updated_at", "-id")


def readable_ids(actor, resources) -> set[int]:
    """Which of these (already visible) resources the actor may read the content of: one query."""
    ids = [r.pk for r in resources]
    if not ids:
        return set()
    return set(visible(actor, Resource.objects.filter(pk__in=ids), Action.READ).values_list("pk", flat=True))


def versions_of(resource: Resource) -> QuerySet[ResourceVersion]:
    """Call only with a resource obtained through `access_resource(..., Action.READ)`."""
    return resource.versions.select_related("author").order_by("-number")


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


def recent_in_departments(actor, department_ids, limit: int = 10) -> QuerySet[Resource]:
    return (
        list_resources(actor)
        .filter(owner_department_id__in=list(department_ids))
        .exclude(status=Resource.Status.DRAFT)[:limit]
    )


def recent_across(actor, limit: int = 10) -> QuerySet[Resource]:
    return list_resources(actor).filter(status=Resource.Status.PUBLISHED)[:limit]


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
