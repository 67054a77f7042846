"""One source (一数一源): which datasets of other departments already hold the people and companies of a
dataset, so that its steward requests access to the authoritative source instead of collecting again.

Two ways to find them:

* exact, through the blind index: identifier fields (resident ID numbers, credit codes) carry digests that
  depend on the field type and the value only, so one self-join of `BlindIndex` on the digest, grouped by
  the other dataset, counts the records found elsewhere without reading a single plaintext value;
* fuzzy, on the plaintext of organization names (and addresses) with rapidfuzz, for datasets that share
  no identifier type with this one. It reads only text fields that are not encrypted and that the steward
  sees in full in the other dataset (`policy.fields.record_access`); nothing but counts and field names
  leaves this module.

Counts are given only about datasets whose catalog entry the steward may see (`policy.engine.visible`).
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import TextField
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast
from rapidfuzz import fuzz, process

from sharehub.catalog.models import Resource
from sharehub.errors import Forbidden
from sharehub.exchange.models import BlindIndex, Dataset, DatasetField, Record
from sharehub.exchange.queries import DatasetView, access_dataset, note_records_read
from sharehub.exchange.storage import Codec
from sharehub.exchange.types import FieldType
from sharehub.policy.engine import Action, ProcessAction, can, decidable, visible
from sharehub.policy.fields import FieldView, record_access

# Identifier types that name one person or one organization: equal digests mean the same entity.
ENTITY_TYPES = (FieldType.RESIDENT_ID, FieldType.CREDIT_CODE)
# Similarity (0-100, rapidfuzz's normalized Indel ratio) at or above which two normalized names are taken for
# the same organization; measured with `python -m bench.onesource` (see its docstring).
NAME_CUTOFF = 85.0
ADDRESS_CUTOFF = 90.0
EXACT, FUZZY = "exact", "fuzzy"
NAME, ADDRESS = "name", "address"

_NOT_WORD = re.compile(r"[\W_]+")
# Legal-form endings that differ between two registrations of one company (longest first).
_LEGAL_FORMS = ("股份有限公司", "有限责任公司", "有限公司", "责任公司", "公司", "集团", "coltd", "ltd", "inc")
_PERSON_WORDS = re.compile(r"legal|person|representative|contact|holder|patient|owner|姓名|联系人|代表人|负责人")
_ORG_NAME = re.compile(r"(^|_)name($|_)|名称$")
_ADDRESS = re.compile(r"addr|address|地址|住所")


def normalize_name(text: str) -> str:
    """An organization name as compared: full-width folded (NFKC), lower case, without spaces and
    punctuation, without its legal form (有限公司 and 公司 name the same company)."""
    folded = _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())
    for form in _LEGAL_FORMS:
        if folded.endswith(form) and len(folded) - len(form) >= 2:
            return folded[: -len(form)]
    return folded


def normalize_address(text: str) -> str:
    return _NOT_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def fuzzy_matches(
    ours: Sequence[str | None],
    theirs: Sequence[str | None],
    *,
    cutoff: float = NAME_CUTOFF,
    normalize: Callable[[str], str] = normalize_name,
    scorer=fuzz.ratio,
) -> dict[int, tuple[int, float]]:
    """For each of `ours` that matches one of `theirs`: (index in theirs, score).

    Equal normalized texts match at once through a dict; the rest are compared with `scorer` only against
    the texts that share their first or their last character (blocking: a typo in one end still finds
    its partner), so 5,000 × 5,000 names take well under a second. Each record there is matched once."""
    exact: dict[str, int] = {}
    blocks: dict[str, list[int]] = defaultdict(list)
    normalized_theirs = []
    for j, text in enumerate(theirs):
        norm = normalize(text) if text else ""
        normalized_theirs.append(norm)
        if not norm:
            continue
        exact.setdefault(norm, j)
        blocks[norm[0]].append(j)
        if norm[-1] != norm[0]:
            blocks[norm[-1]].append(j)
    found: dict[int, tuple[int, float]] = {}
    for i, text in enumerate(ours):
        norm = normalize(text) if text else ""
        if not norm:
            continue
        if norm in exact:
            found[i] = (exact[norm], 100.0)
            continue
        candidates = list(dict.fromkeys(blocks.get(norm[0], []) + blocks.get(norm[-1], [])))
        if not candidates:
            continue
        best = process.extractOne(
            norm, [normalized_theirs[j] for j in candidates], scorer=scorer, processor=None, score_cutoff=cutoff
        )
        if best is not None:
            found[i] = (candidates[best[2]], float(best[1]))
    # One record there stands for one company: when several here found the same one, the closest keeps it
    # (华兴 and 华星 both here, 华兴 there: 华星 is another company, not a typo).
    taken: dict[int, int] = {}
    for i, (j, _score) in sorted(found.items(), key=lambda item: -item[1][1]):
        if j not in taken:
            taken[j] = i
    return {i: found[i] for i in taken.values()}


@dataclass
class Overlap:
    """What one dataset of another department holds of this dataset's records."""

    resource: Resource
    method: str
    matched: int
    total: int
    pairs: list[tuple[str, str]]  # (field here, field there) that matched
    sources: list[str]  # fields there that are authoritative for fields here (named as source, else matched)
    readable: bool = False
    may_request: bool = False

    @property
    def share(self) -> float:
        return self.matched / self.total if self.total else 0.0


@dataclass
class Report:
    resource: Resource
    total: int
    overlaps: list[Overlap] = field(default_factory=list)
    fuzzy_scanned: int = 0  # datasets compared by name


def _entity_kind(item: DatasetField) -> str | None:
    """name or address when this text field names an organization or gives an address."""
    if item.type != FieldType.TEXT:
        return None
    text = f"{item.name} {item.label_en}".lower()
    if _ADDRESS.search(text) or _ADDRESS.search(item.label_zh):
        return ADDRESS
    if _PERSON_WORDS.search(text) or _PERSON_WORDS.search(item.label_zh):
        return None
    if _ORG_NAME.search(item.name.lower()) or _ORG_NAME.search(item.label_zh):
        return NAME
    return None


def _candidates(actor, resource: Resource) -> list[Resource]:
    """Datasets of other departments whose entry the actor may see, with what `can()` needs."""
    queryset = Resource.objects.filter(kind=Resource.Kind.DATASET).exclude(
        owner_department_id=resource.owner_department_id
    )
    return list(decidable(visible(actor, queryset)).select_related("dataset"))


def _fields_of(dataset_ids: list[int]) -> dict[int, list[DatasetField]]:
    found: dict[int, list[DatasetField]] = defaultdict(list)
    for item in DatasetField.objects.filter(dataset_id__in=dataset_ids).order_by("dataset_id", "position"):
        found[item.dataset_id].append(item)
    return found


def _exact(dataset: Dataset, names: list[str], allowed: set[int]) -> dict[int, tuple[int, list[tuple[str, str]]]]:
    """Other datasets sharing identifier digests with `names` of this dataset: {id: (records here, pairs)}.
    Equal digests are of the same field type, since the type is part of what the HMAC covers."""
    if not names or not allowed:
        return {}
    table = BlindIndex._meta.db_table
    marks = ", ".join(["%s"] * len(names))
    base = (
        f"FROM {table} mine JOIN {table} other ON other.digest = mine.digest AND other.dataset_id <> mine.dataset_id "
        f"WHERE mine.dataset_id = %s AND mine.field IN ({marks})"
    )
    params = [dataset.pk, *names]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT other.dataset_id, COUNT(DISTINCT mine.record_id) {base} GROUP BY other.dataset_id", params
        )
        counts = {other: count for other, count in cursor.fetchall() if other in allowed}
        cursor.execute(
            f"SELECT DISTINCT other.dataset_id, mine.field, other.field {base} ORDER BY 1, 2, 3",
            params,
        )
        pairs: dict[int, list[tuple[str, str]]] = defaultdict(list)
        for other, here, there in cursor.fetchall():
            if other in counts:
                pairs[other].append((here, there))
    return {other: (count, pairs[other]) for other, count in counts.items()}


def _pairs(mine: list[DatasetField], theirs: list[DatasetField], other_id: int) -> list[tuple[str, str, str]]:
    """(field here, field there, name or address) to compare by text: the sources the fields here name
    in the other dataset when they name any, else organization names with names and addresses with
    addresses."""
    by_name = {f.name: f for f in theirs}
    named = [
        (f.name, f.source_field, _entity_kind(f) or NAME)
        for f in mine
        if f.source_id == other_id
        and f.type == FieldType.TEXT
        and f.source_field in by_name
        and by_name[f.source_field].type == FieldType.TEXT
    ]
    if named:
        return named
    kinds_there: dict[str, list[str]] = defaultdict(list)
    for f in theirs:
        kind = _entity_kind(f)
        if kind:
            kinds_there[kind].append(f.name)
    pairs = []
    for f in mine:
        kind = _entity_kind(f)
        if kind and kinds_there.get(kind):
            pairs.append((f.name, kinds_there[kind][0], kind))
    return pairs


def _texts(dataset_id: int, names: list[str]) -> list[tuple[int, dict[str, str | None]]]:
    """(record id, {field: plain text}) of unencrypted text fields, read straight from the JSON column."""
    annotations = {f"_t{n}": Cast(KeyTextTransform(name, "values"), TextField()) for n, name in enumerate(names)}
    rows = Record.objects.filter(dataset_id=dataset_id).annotate(**annotations).values_list("pk", *annotations)
    return [(pk, dict(zip(names, values, strict=True))) for pk, *values in rows.iterator(chunk_size=2000)]


def _fuzzy(actor, here: Dataset, mine: list[DatasetField], other: Resource, theirs: list[DatasetField], access):
    """Records here matched by name (or by address when no name pairs) in `other`: (count, pairs used).
    Reading the other dataset's names is a read of its records like any other, and is logged as one."""
    views = access.views
    plain_here = {f.name for f in mine if f.sensitivity not in ("sensitive", "secret")}
    plain_there = {
        f.name for f in theirs if f.sensitivity not in ("sensitive", "secret") and views.get(f.name) == FieldView.FULL
    }
    pairs = [p for p in _pairs(mine, theirs, other.pk) if p[0] in plain_here and p[1] in plain_there]
    names = [p for p in pairs if p[2] == NAME] or [p for p in pairs if p[2] == ADDRESS]
    if not names:
        return 0, []
    here_field, there_field, kind = names[0]
    ours = _texts(here.pk, [here_field])
    theirs_rows = _texts(other.pk, [there_field])
    normalize, cutoff = (normalize_name, NAME_CUTOFF) if kind == NAME else (normalize_address, ADDRESS_CUTOFF)
    found = fuzzy_matches(
        [v[here_field] for _pk, v in ours],
        [v[there_field] for _pk, v in theirs_rows],
        cutoff=cutoff,
        normalize=normalize,
    )
    note_records_read(
        actor,
        DatasetView(other, other.dataset, theirs, Codec(other.dataset, theirs), access),
        len(theirs_rows),
        [there_field],
        [],
        via="overlap",
    )
    return len(found), [(here_field, there_field)]


def find_overlaps(actor, ident: int | str) -> Report:
    """Datasets of other departments that hold records of this one, largest overlap first. For members of
    the owner department (and admins): NotFound for a dataset the actor may not see, Forbidden otherwise."""
    view = access_dataset(actor, ident)
    decision = can(actor, Action.EDIT, view.resource)
    if not decision:
        raise Forbidden(decision.message)
    resource, dataset, mine = view.resource, view.dataset, view.fields
    report = Report(resource=resource, total=dataset.record_count)
    others = {r.pk: r for r in _candidates(actor, resource)}
    if not others or not dataset.record_count:
        return report
    fields = _fields_of(list(others))
    entity_fields = [f.name for f in mine if f.type in ENTITY_TYPES]
    found: dict[int, Overlap] = {}
    for other_id, (count, pairs) in _exact(dataset, entity_fields, set(others)).items():
        found[other_id] = Overlap(others[other_id], EXACT, count, dataset.record_count, pairs, [])
    my_types = {f.type for f in mine if f.type in ENTITY_TYPES}
    for other_id, other in others.items():
        theirs = fields.get(other_id, [])
        if other_id in found or my_types & {f.type for f in theirs} or not _has_records(other):
            continue  # found already, or a shared identifier would have found them: the entities differ
        access = record_access(actor, other, theirs)
        if not access.allowed or (other.dataset.consent_required and not access.sees_all):
            continue
        report.fuzzy_scanned += 1
        count, pairs = _fuzzy(actor, dataset, mine, other, theirs, access)
        if count:
            found[other_id] = Overlap(other, FUZZY, count, dataset.record_count, pairs, [])
    for other_id, overlap in found.items():
        named = [f.source_field for f in mine if f.source_id == other_id and f.source_field]
        overlap.sources = list(dict.fromkeys(named or [there for _here, there in overlap.pairs]))
        overlap.readable = bool(can(actor, Action.READ, overlap.resource))
        overlap.may_request = bool(not overlap.readable and can(actor, ProcessAction.REQUEST, overlap.resource))
    report.overlaps = sorted(found.values(), key=lambda o: (-o.matched, o.resource.code))
    return report


def _has_records(resource: Resource) -> bool:
    try:
        return resource.dataset.record_count > 0
    except Dataset.DoesNotExist:
        return False
