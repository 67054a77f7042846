"""Keeping the index in step with the catalog: a reader of the event log (see events/consumers.py)
that reindexes what each change touched. It reads and segments before the transaction that writes the
index and advances its cursor, so no write lock is held while text is segmented."""

from __future__ import annotations

from sharehub.catalog.models import Resource
from sharehub.events import consumers
from sharehub.org.models import Department
from sharehub.search import segment
from sharehub.search.services import PreparedBatch, prepare_index, resources_mentioning, write_index

READER_NAME = "search-index"
_SKIPPED = {"resource.read"}


def _affected(event) -> list[int]:
    """The resources whose index entry this event changes; the dictionary is reloaded when it changed."""
    action = event.action
    if action in _SKIPPED:
        return []
    if action.startswith("resource.") and event.target_id.isdigit():
        return [int(event.target_id)]
    if action.startswith("department."):
        segment.dictionary_changed()
        segment.reset()
        if not event.target_id.isdigit():
            return []
        department = Department.objects.filter(pk=int(event.target_id)).first()
        owned = Resource.objects.filter(owner_department_id=int(event.target_id)).values_list("pk", flat=True)
        mentioning = resources_mentioning(department.name) if department else []
        return [*owned, *mentioning]
    if action in ("search.term_added", "search.term_removed"):
        segment.dictionary_changed()
        segment.reset()
        text = (event.details or {}).get("text", "")
        return list(resources_mentioning(text)) if text else []
    return []


def prepare(events) -> list[PreparedBatch]:
    """Read and segment what a batch of events touched, before the write transaction (see consumers.Consumer)."""
    ids: list[int] = []
    for event in events:
        ids.extend(_affected(event))
    return prepare_index(ids)


def register() -> None:
    consumers.register_prepared(
        READER_NAME, prepare, write_index, prefixes=("resource.", "department.", "search.term_")
    )
