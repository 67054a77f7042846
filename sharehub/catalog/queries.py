"""Every read of the catalog goes through the policy filter here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from sharehub.catalog.models import Attachment, Resource, ResourceVersion
from sharehub.errors import Forbidden, NotFound
from sharehub.policy.engine import Action, can, visible


def _base() -> QuerySet[Resource]:
    return Resource.objects.select_related(
        "owner_department", "steward", "category", "data_grade", "project"
    ).prefetch_related("tags", "scope_departments")


def access_resource(actor, ident: int | str, action: Action = Action.VIEW) -> Resource:
    """Fetch a resource by id or code and authorize `action` in one call.

    A caller who may not see the entry gets NotFound whether or not it exists; one who sees the
    entry but may not do `action` gets Forbidden with the policy's reason.
    """
    lookup = Q(pk=int(ident)) if str(ident).isdigit() else Q(code=str(ident))
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
    attachment = attachments_of(resource).filter(pk=attachment_id).first()
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
