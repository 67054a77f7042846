"""Keeping the index in step with the catalog: a reader of the event log (see events/consumers.py)
that reindexes what each change touched, in the same transaction that advances its cursor."""

from __future__ import annotations

from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.org.models import Department
from sharehub.search import segment
from sharehub.search.services import index_resources, resources_mentioning

READER_NAME = "search-index"
_SKIPPED = {"resource.read"}


def handle(event) -> None:
    action = event.action
    if action in _SKIPPED:
        return
    if action.startswith("resource.") and event.target_id.isdigit():
        index_resources([int(event.target_id)])
    elif action.startswith("department."):
        segment.dictionary_changed()
        segment.reset()
        if event.target_id.isdigit():
            department = Department.objects.filter(pk=int(event.target_id)).first()
            owned = Resource.objects.filter(owner_department_id=int(event.target_id)).values_list("pk", flat=True)
            mentioning = resources_mentioning(department.name) if department else []
            index_resources([*owned, *mentioning])
    elif action in ("search.term_added", "search.term_removed"):
        segment.dictionary_changed()
        segment.reset()
        text = (event.details or {}).get("text", "")
        if text:
            index_resources(resources_mentioning(text))


def register() -> None:
    consumers.register(READER_NAME, handle, prefixes=("resource.", "department.", "search.term_"))
