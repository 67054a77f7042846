"""Every write of the search app: the index (kept from the event log), the organization's dictionary
and saved searches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource
from sharehub.errors import Conflict, Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.feeds.models import Follow
from sharehub.policy.engine import OrgAction, can
from sharehub.search import segment
from sharehub.search.backends import backend_for
from sharehub.search.documents import (
    INDEX_FORMAT,
    IndexDocument,
    index_document,
    resources_for_index,
    source_text,
)
from sharehub.search.models import ResourceEntry, SavedSearch, SearchTerm
from sharehub.validation import parse_id

BATCH = 500
MAX_SAVED_SEARCHES = 100


def _entry_for(resource: Resource, digest: str, now) -> ResourceEntry:
    return ResourceEntry(
        resource_id=resource.pk,
        owner_department_id=resource.owner_department_id,
        kind=resource.kind,
        status=resource.status,
        sharing_type=resource.sharing_type,
        scope_all=resource.scope_all,
        updated_at=resource.updated_at,
        published_at=resource.published_at,
        digest=digest,
        indexed_at=now,
        index_format=INDEX_FORMAT,
    )


def index_resources(ids: Iterable[int], progress: Callable[[int], None] | None = None) -> int:
    """(Re)index these resources now, in the caller's transaction; ids that no longer exist leave
    the index. Returns how many were written; `progress` hears how many ids each batch covered.

    Segmentation is pure Python and the database works in its own process (or, for SQLite, without
    the interpreter lock), so while one batch is written a second thread segments the next; the
    database is only ever used from the caller's thread, inside its transaction."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:
        return 0
    backend = backend_for()
    segmenter = segment.segmenter()
    now = timezone.now()
    indexed_at = connection.ops.adapt_datetimefield_value(now)
    chunks = [wanted[start : start + BATCH] for start in range(0, len(wanted), BATCH)]
    written = 0
    with transaction.atomic(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="segment") as segmenting:
        pending: tuple[list[int], list[Resource], Future] | None = None
        for chunk in [*chunks, None]:
            read = None
            if chunk is not None:
                resources = list(resources_for_index(chunk))
                texts = [source_text(r) for r in resources]
                read = (chunk, resources, segmenting.submit(_segmented, texts, segmenter))
            if pending is not None:
                pending_chunk, pending_resources, segmented = pending
                written += _write_batch(backend, pending_chunk, pending_resources, segmented.result(), now, indexed_at)
                if progress:
                    progress(len(pending[0]))
            pending = read
    return written


def _segmented(texts: list, segmenter: segment.Segmenter) -> list[IndexDocument]:
    return [index_document(text, segmenter) for text in texts]


@dataclass(frozen=True)
class PreparedBatch:
    """Resources read and segmented ahead of the transaction that writes them (see `prepare_index`)."""

    chunk: list[int]
    resources: list[Resource]
    documents: list[IndexDocument]


def prepare_index(ids: Iterable[int]) -> list[PreparedBatch]:
    """Read and segment these resources, with no transaction needed: segmenting a long attachment takes
    seconds, and on SQLite an open write transaction would make every other writer wait that long. A change
    made after this read has its own, later event, so the index catches up with it on the next batch."""
    wanted = sorted({int(i) for i in ids})
    if not wanted:  # most events touch no resource: do not load the dictionary for them
        return []
    segmenter = segment.segmenter()
    batches = []
    for start in range(0, len(wanted), BATCH):
        chunk = wanted[start : start + BATCH]
        resources = list(resources_for_index(chunk))
        batches.append(PreparedBatch(chunk, resources, _segmented([source_text(r) for r in resources], segmenter)))
    return batches


def write_index(batches: list[PreparedBatch]) -> int:
    """Write prepared batches into the index, in the caller's transaction; returns how many were written."""
    backend = backend_for()
    now = timezone.now()
    indexed_at = connection.ops.adapt_datetimefield_value(now)
    written = 0
    with transaction.atomic():
        for batch in batches:
            written += _write_batch(backend, batch.chunk, batch.resources, batch.documents, now, indexed_at)
    return written


def _write_batch(
    backend, chunk: list[int], resources: list[Resource], documents: list[IndexDocument], now, indexed_at
) -> int:
    found = {r.pk for r in resources}
    gone = [i for i in chunk if i not in found]
    with connection.cursor() as cursor:
        if gone:
            backend.delete(cursor, gone)
            ResourceEntry.objects.filter(resource_id__in=gone).delete()
        if documents:
            existing = set(ResourceEntry.objects.filter(resource_id__in=found).values_list("resource_id", flat=True))
            digests = {d.resource_id: d.digest for d in documents}
            ResourceEntry.objects.bulk_create(
                [_entry_for(r, digests[r.pk], now) for r in resources if r.pk not in existing]
            )
            backend.write(cursor, documents, indexed_at)
    return len(documents)


def rebuild_index(progress: Callable[[int], None] | None = None) -> int:
    """Empty the index and index every resource again, in batches, in one transaction."""
    from sharehub.events.models import ConsumerCursor, Event
    from sharehub.search.tasks import READER_NAME

    segment.reset()
    backend = backend_for()
    with transaction.atomic():
        head = Event.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
        with connection.cursor() as cursor:
            backend.clear(cursor)
        ResourceEntry.objects.update(digest="", indexed_at=None)
        ids = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
        total = index_resources(ids, progress)
        ConsumerCursor.objects.update_or_create(name=READER_NAME, defaults={"seq": head})
    return total


@dataclass
class IndexReport:
    resources: int = 0
    indexed: int = 0
    missing: list[int] = field(default_factory=list)
    stale: list[int] = field(default_factory=list)
    outdated: list[int] = field(default_factory=list)  # indexed by an older INDEX_FORMAT
    orphaned: list[int] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not (self.missing or self.stale or self.outdated or self.orphaned)


def check_index(progress: Callable[[int], None] | None = None) -> IndexReport:
    """Compare every resource's current text, access terms and facet columns with what the index holds."""
    report = IndexReport()
    digests = dict(ResourceEntry.objects.exclude(digest="").values_list("resource_id", "digest"))
    outdated = set(
        ResourceEntry.objects.exclude(digest="")
        .exclude(index_format=INDEX_FORMAT)
        .values_list("resource_id", flat=True)
    )
    backend = backend_for()
    with connection.cursor() as cursor:
        in_backend = backend.indexed_ids(cursor)
        out_of_step = backend.stale_access_ids(cursor) | backend.stale_facet_ids(cursor)
    ids = list(Resource.objects.order_by("pk").values_list("pk", flat=True))
    report.resources = len(ids)
    report.indexed = len(digests)
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        for resource in resources_for_index(chunk):
            stored = digests.get(resource.pk)
            if stored is None or resource.pk not in in_backend:
                report.missing.append(resource.pk)
            elif stored != source_text(resource).digest or resource.pk in out_of_step:
                report.stale.append(resource.pk)
            elif resource.pk in outdated:
                report.outdated.append(resource.pk)
        if progress:
            progress(len(chunk))
    known = set(ids)
    report.orphaned = sorted((set(digests) | in_backend) - known)
    return report


def note_quoted_reads(actor, hits, via: str) -> None:
    """A snippet quoted from closed content is a read of it: one event per page of results."""
    from sharehub.catalog.services import note_content_read

    note_content_read(actor, [h.resource for h in hits if h.readable and h.snippet.quotes_content], via=via)


def resources_mentioning(text: str) -> list[int]:
    """Resources whose searchable text (catalog fields or content) contains `text`: the ones whose
    segmentation a new dictionary word or department name may change. A full scan; rare."""
    return list(
        Resource.objects.filter(
            Q(title__icontains=text)
            | Q(summary__icontains=text)
            | Q(body__icontains=text)
            | Q(code__icontains=text)
            | Q(conditions__icontains=text)
            | Q(terms_of_use__icontains=text)
            | Q(dataset__fields__name__icontains=text)
            | Q(dataset__fields__label_zh__icontains=text)
            | Q(dataset__fields__label_en__icontains=text)
            | Q(dataset__fields__description__icontains=text)
            | Q(tags__name__icontains=text)
            | Q(category__name__icontains=text)
            | Q(project__name__icontains=text)
            | Q(attachments__blob__text__icontains=text)
        )
        .values_list("pk", flat=True)
        .distinct()
    )


def _require_admin(actor) -> None:
    decision = can(actor, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)


def add_term(actor, text: str, note: str = "") -> SearchTerm:
    """Add a word the segmenter must keep whole; the resources that mention it are reindexed."""
    _require_admin(actor)
    text = (text or "").strip()
    if not text:
        raise Invalid(fields={"text": _("Enter the term.")})
    if len(text) > 40 or any(c.isspace() for c in text):
        raise Invalid(fields={"text": _("A term is one word of at most 40 characters, without spaces.")})
    if len(note) > 200:
        raise Invalid(fields={"note": _("At most 200 characters.")})
    with transaction.atomic():
        if SearchTerm.objects.filter(text=text).exists():
            message = _("%(term)s is already in the dictionary.") % {"term": text}
            raise Conflict(message, fields={"text": message})
        term = SearchTerm.objects.create(text=text, note=note.strip(), created_by=actor)
        record(actor, "search.term_added", term, details={"text": text})
    return term


def remove_term(actor, term: SearchTerm) -> None:
    _require_admin(actor)
    with transaction.atomic():
        record(actor, "search.term_removed", term, details={"text": term.text})
        term.delete()


def _saved_filter_values(key: str, raw) -> tuple[list[str], str | None]:
    """The cleaned values of one saved filter, or the reason they are not valid."""
    from sharehub.search.queries import SORTS, UPDATED_BUCKETS

    values = [str(v).strip() for v in (raw if isinstance(raw, list) else [raw]) if str(v).strip()]
    if len(values) > 20 or any(len(v) > 100 or "\x00" in v for v in values):
        return [], _("At most 20 values of at most 100 characters.")
    choices = {
        "kind": Resource.Kind.values,
        "sharing_type": Resource.SharingType.values,
        "updated": [name for name, _days, _label in UPDATED_BUCKETS],
        "sort": list(SORTS),
    }.get(key)
    if key == "department" and not all(parse_id(v) is not None for v in values):
        return [], _("Departments are given by their numeric ids.")
    if choices is not None and any(v not in choices for v in values):
        return [], _("Choose one of: %(choices)s.") % {"choices": ", ".join(choices)}
    if key in ("updated", "sort") and len(values) > 1:
        return [], _("Choose one value.")
    return values, None


def _clean_saved(name: str, query: str, filters: dict | None) -> tuple[str, str, dict]:
    errors = {}
    name = (name or "").strip()
    query = (query or "").strip()
    if "\x00" in name:
        errors["name"] = _("Remove the NUL character.")
    elif not name:
        errors["name"] = _("Give the search a name.")
    elif len(name) > 100:
        errors["name"] = _("At most 100 characters.")
    if len(query) > 500:
        errors["query"] = _("At most 500 characters.")
    elif "\x00" in query:
        errors["query"] = _("Remove the NUL character.")
    clean_filters = {}
    if filters is not None and not isinstance(filters, dict):
        errors["filters"] = _("Filters must be an object.")
    else:
        for key in sorted(filters or {}):
            if key not in SAVED_FILTER_KEYS:
                errors["filters"] = _("Unknown filter %(name)s.") % {"name": key}
                break
            values, problem = _saved_filter_values(key, filters[key])
            if problem:
                errors[f"filters.{key}"] = problem
            elif values:
                clean_filters[key] = values
    if not query and not any(k != "sort" for k in clean_filters) and not errors:
        errors["query"] = _("Enter words to search for or choose a filter.")
    if errors:
        raise Invalid(fields=errors)
    return name, query, clean_filters


SAVED_FILTER_KEYS = ("department", "kind", "tag", "sharing_type", "updated", "sort")


def save_search(actor, *, name: str, query: str = "", filters: dict | None = None) -> SavedSearch:
    if not getattr(actor, "is_authenticated", False):
        raise Forbidden(_("Sign in to save searches."))
    name, query, filters = _clean_saved(name, query, filters)
    with transaction.atomic():
        if SavedSearch.objects.filter(owner=actor, name=name).exists():
            message = _("You already have a saved search with this name.")
            raise Conflict(message, fields={"name": message})
        if SavedSearch.objects.filter(owner=actor).count() >= MAX_SAVED_SEARCHES:
            raise Invalid(fields={"name": _("You can keep at most %(n)s saved searches.") % {"n": MAX_SAVED_SEARCHES}})
        saved = SavedSearch.objects.create(owner=actor, name=name, query=query, filters=filters)
        record(actor, "search.saved", saved, details={"query": query})
    return saved


def delete_saved_search(actor, saved_id: int) -> None:
    with transaction.atomic():
        saved = SavedSearch.objects.filter(pk=saved_id, owner_id=getattr(actor, "pk", None)).first()
        if saved is None:
            raise NotFound()
        record(actor, "search.saved_deleted", saved, details={"query": saved.query})
        Follow.objects.filter(kind=Follow.Kind.SEARCH, target_id=saved.pk).delete()
        saved.delete()
