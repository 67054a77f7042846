"""What the catalog holds per department, for the department tree's merge and archive (sharehub.org.tree,
registered in CatalogConfig.ready): the resources it owns (their import keys go along), the projects their
progress updates belong to, and the resources shared with it by scope."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import ImportKey, Project, Resource
from sharehub.org import tree
from sharehub.org.models import Department

Scope = Resource.scope_departments.through


def _count_resources(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Resource.objects.all(), "owner_department_id", ids)


def _resource_examples(department: Department, limit: int) -> list[str]:
    found = Resource.objects.filter(owner_department=department).order_by("-updated_at", "-id")
    return [f"{code} {title}" for code, title in found.values_list("code", "title")[:limit]]


def _move_resources(source: Department, target: Department) -> None:
    """Owned by the target from now on; their codes keep the old prefix (they are identifiers). An import key
    the target has too stays the target's: a later import of that source updates the target's resource."""
    ImportKey.objects.filter(
        department=source, key__in=ImportKey.objects.filter(department=target).values("key")
    ).delete()
    ImportKey.objects.filter(department=source).update(department=target)
    Resource.objects.filter(owner_department=source).update(owner_department=target)


def _count_projects(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Project.objects.all(), "department_id", ids)


def _project_examples(department: Department, limit: int) -> list[str]:
    return list(Project.objects.filter(department=department).order_by("name").values_list("name", flat=True)[:limit])


def _move_projects(source: Department, target: Department) -> None:
    """A project whose name the target uses already is renamed "name (CODE)" with the source's code."""
    taken = set(Project.objects.filter(department=target).values_list("name", flat=True))
    for project in Project.objects.filter(department=source, name__in=taken):
        name = f"{project.name[:180]} ({source.code})"
        if name in taken:
            name = f"{project.name[:170]} ({source.code}-{project.pk})"
        project.name = name
        project.save(update_fields=["name"])
        taken.add(name)
    Project.objects.filter(department=source).update(department=target)


def _count_scoped(ids: list[int]) -> dict[int, int]:
    return tree.count_by(Scope.objects.all(), "department_id", ids)


def _scoped_examples(department: Department, limit: int) -> list[str]:
    found = Resource.objects.filter(scope_departments=department).order_by("-updated_at", "-id")
    return [f"{code} {title}" for code, title in found.values_list("code", "title")[:limit]]


def _move_scoped(source: Department, target: Department) -> None:
    """A resource shared with the source is shared with the target instead (once, if it was with both)."""
    Scope.objects.filter(
        department=source, resource_id__in=Scope.objects.filter(department=target).values("resource_id")
    ).delete()
    Scope.objects.filter(department=source).update(department=target)


def register() -> None:
    tree.register_holding(
        "resources",
        _("Resources it owns"),
        count=_count_resources,
        examples=_resource_examples,
        move=_move_resources,
        on_merge=_("The target owns them; their codes keep the old prefix."),
        blocks_archive=True,
        order=40,
    )
    tree.register_holding(
        "projects",
        _("Projects"),
        count=_count_projects,
        examples=_project_examples,
        move=_move_projects,
        on_merge=_("A project whose name the target uses already gets this department's code after its name."),
        order=45,
    )
    tree.register_holding(
        "scoped_resources",
        _("Resources shared with it"),
        count=_count_scoped,
        examples=_scoped_examples,
        move=_move_scoped,
        on_merge=_("They are shared with the target instead."),
        order=48,
    )
