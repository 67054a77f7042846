"""Reads of datasets and their records, always through the policy: what a caller sees of each field
(in full, masked or not at all) and whose records they see are decided in `policy.fields`, and
applied here, before any value leaves this module. Filters, sorting and text search work only on
fields the caller sees in full, so that a masked value cannot be found out by asking."""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import orjson
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import ExpressionWrapper, F, FloatField, Q, QuerySet, TextField
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource
from sharehub.catalog.queries import authorize, resource_key
from sharehub.db.prepared import PreparedRead
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.exchange.masking import masker
from sharehub.exchange.models import BlindIndex, Change, Consent, Dataset, DatasetField, Record
from sharehub.exchange.schema import as_dict
from sharehub.exchange.storage import Codec
from sharehub.exchange.types import FieldType, FieldValueError, parse
from sharehub.org.models import Department
from sharehub.policy.engine import Action
from sharehub.policy.fields import FieldView, RecordAccess, record_access
from sharehub.validation import MAX_DB_INT

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_IN = 500
MAX_LOGGED_CONSENTS = 1000
OPERATORS = ("eq", "in", "gt", "gte", "lt", "lte", "prefix", "null")
RANGE_OPERATORS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}
NUMERIC = (FieldType.INTEGER, FieldType.DECIMAL)
# How a record's id is named in every row it is shown in: the API, the change feed and exports (a field name
# starts with a letter, so no field can take it).
RECORD_ID = "_id"


def field_lists(dataset_ids: list[int]) -> dict[int, list[dict]]:
    """The field lists of several datasets in one query, by dataset (= resource) id."""
    lists: dict[int, list[dict]] = defaultdict(list)
    for item in DatasetField.objects.filter(dataset_id__in=dataset_ids).order_by("dataset_id", "position"):
        lists[item.dataset_id].append(as_dict(item))
    return dict(lists)


@dataclass
class DatasetView:
    """A dataset as one caller may read it."""

    resource: Resource
    dataset: Dataset
    fields: list[DatasetField]
    codec: Codec
    access: RecordAccess

    def field(self, name: str) -> DatasetField | None:
        return self.codec.by_name.get(name)

    @property
    def shown_count(self) -> int | None:
        """The number of records, or None where it would tell a consent reader about subjects who did
        not consent to them (how many there are, and when one is added)."""
        if self.dataset.consent_required and not self.access.sees_all:
            return None
        return self.dataset.record_count


def _columns(model, skip: tuple[str, ...] = ()) -> list[str]:
    return [f.attname for f in model._meta.concrete_fields if f.attname not in skip]


_RESOURCE_COLUMNS = _columns(Resource, skip=("body",))  # the body is not shown here and may be long
_OWNER_COLUMNS = _columns(Department)
_DATASET_COLUMNS = _columns(Dataset)


def _dataset_entry_read(by: str, kind: type) -> PreparedRead:
    """The resource with what the policy reads (its owner department) and its dataset row, in one query
    compiled once: the fixed cost of every records request (sharehub.db.prepared)."""
    return PreparedRead(
        lambda value: (
            Resource.objects.filter(**{by: value})
            .order_by()
            .values_list(
                *_RESOURCE_COLUMNS,
                *(f"owner_department__{name}" for name in _OWNER_COLUMNS),
                *(f"dataset__{name}" for name in _DATASET_COLUMNS),
            )[:1]
        ),
        value=kind,
    )


_DATASET_ENTRY = {"pk": _dataset_entry_read("pk", int), "code": _dataset_entry_read("code", str)}


def _dataset_entry(ident: int | str) -> Resource | None:
    """The catalog entry `ident` names, its owner department and dataset row attached as select_related
    would attach them (no dataset row: `resource.dataset` raises without a query)."""
    key = resource_key(ident)
    rows = _DATASET_ENTRY[key[0]].rows(value=key[1]) if key is not None else []
    if not rows:
        return None
    row = rows[0]
    ends = (len(_RESOURCE_COLUMNS), len(_RESOURCE_COLUMNS) + len(_OWNER_COLUMNS))
    resource = Resource.from_db(DEFAULT_DB_ALIAS, _RESOURCE_COLUMNS, row[: ends[0]])
    owner = Department.from_db(DEFAULT_DB_ALIAS, _OWNER_COLUMNS, row[ends[0] : ends[1]])
    Resource.owner_department.field.set_cached_value(resource, owner)
    dataset_values = row[ends[1] :]
    dataset = None
    if dataset_values[_DATASET_COLUMNS.index("resource_id")] is not None:
        dataset = Dataset.from_db(DEFAULT_DB_ALIAS, _DATASET_COLUMNS, dataset_values)
        Dataset.resource.field.set_cached_value(dataset, resource)
    Resource.dataset.related.set_cached_value(resource, dataset)
    return resource


_FIELD_NAMES = [f.attname for f in DatasetField._meta.concrete_fields]
# Read on every records request: compiled once (sharehub.db.prepared).
_FIELDS = PreparedRead(
    lambda dataset_id: DatasetField.objects.filter(dataset_id=dataset_id).values_list(*_FIELD_NAMES), dataset_id=int
)


def dataset_fields(dataset: Dataset) -> list[DatasetField]:
    """The dataset's fields in order, each knowing its dataset (as `dataset.fields.all()` gives them)."""
    fields = [DatasetField.from_db(DEFAULT_DB_ALIAS, _FIELD_NAMES, row) for row in _FIELDS.rows(dataset_id=dataset.pk)]
    for item in fields:
        DatasetField.dataset.field.set_cached_value(item, dataset)
    return fields


def access_dataset(actor, ident: int | str, *, now=None) -> DatasetView:
    """A dataset the actor may see the entry of; NotFound otherwise (or when it is no dataset).
    Whether they may read its records is `view.access`; the readers below refuse without it."""
    # The catalog's related rows (tags, category, ...) are not shown here. Scope departments load only when
    # a decision needs them.
    resource = authorize(actor, _dataset_entry(ident), Action.VIEW)
    if resource.kind != Resource.Kind.DATASET:
        raise NotFound()
    try:
        dataset = resource.dataset
    except Dataset.DoesNotExist:
        dataset = Dataset(resource=resource)  # no write on a read
    fields = [] if dataset._state.adding else dataset_fields(dataset)
    return DatasetView(
        resource, dataset, fields, Codec(dataset, fields), record_access(actor, resource, fields, now=now)
    )


@dataclass
class RecordQuery:
    filters: list[tuple[str, str, str]] = field(default_factory=list)  # (field, operator, raw value)
    text: str = ""
    fields: list[str] | None = None
    sort: str = ""  # a field name, "-" first for descending; the record order otherwise
    cursor: str = ""
    limit: int = DEFAULT_LIMIT
    purpose: str = ""


@dataclass
class RecordPage:
    rows: list[dict[str, Any]]
    fields: list[str]
    next_cursor: str | None
    masked: list[str]
    consents: list[int] = field(default_factory=list)


def require_read(view: DatasetView) -> None:
    if not view.access.allowed:
        raise Forbidden(view.access.decision.message)


def _full_plain(view: DatasetView, name: str, what: str) -> DatasetField:
    item = view.field(name)
    if item is None or view.access.views.get(name) == FieldView.HIDDEN:
        raise Invalid(fields={what: _("No field named %(name)s.") % {"name": name}})
    if view.access.views.get(name) != FieldView.FULL:
        raise Invalid(fields={what: _("%(name)s is masked for you; you can only use fields you see in full.")
                              % {"name": name}})  # fmt: skip
    return item


def _value(item: DatasetField, raw: str, what: str):
    try:
        value = parse(item.type, raw, choices=item.choices)
    except FieldValueError as error:
        raise Invalid(fields={what: f"{item.name}: {error.reason}"}) from None
    if value is None:
        raise Invalid(fields={what: _("%(name)s: give a value.") % {"name": item.name}})
    return value


def _sortable(item: DatasetField):
    if item.type == FieldType.DECIMAL:
        return Cast(KeyTextTransform(item.name, "values"), FloatField())
    if item.type in (FieldType.INTEGER, FieldType.BOOLEAN):
        return KeyTransform(item.name, "values")
    # Cast: lookups on a bare KeyTextTransform read their right-hand side as JSON on SQLite
    return Cast(KeyTextTransform(item.name, "values"), TextField())


def _comparable(item: DatasetField, value):
    return float(value) if item.type == FieldType.DECIMAL else value


def _filter(view: DatasetView, queryset: QuerySet[Record], name: str, op: str, raw: str) -> QuerySet[Record]:
    what = f"{name}.{op}" if op != "eq" else name
    if op not in OPERATORS:
        raise Invalid(fields={what: _("Unknown operator; use one of %(ops)s.") % {"ops": ", ".join(OPERATORS)}})
    item = _full_plain(view, name, what)
    if op == "null":
        wanted = str(raw).lower() in ("1", "true", "yes")
        has = Q(values__has_key=name)
        return queryset.exclude(has) if wanted else queryset.filter(has)
    encrypted = name in view.codec.encrypted
    if op in ("eq", "in"):
        raws = [raw] if op == "eq" else [r for r in str(raw).split(",") if r.strip()]
        if not raws or len(raws) > MAX_IN:
            raise Invalid(fields={what: _("Give 1 to %(n)s values.") % {"n": MAX_IN}})
        values = [_value(item, r, what) for r in raws]
        if encrypted or item in view.codec.digested:
            digests = [view.codec.digest(item, v) for v in values]
            matching = BlindIndex.objects.filter(dataset_id=view.dataset.pk, field=name, digest__in=digests)
            return queryset.filter(pk__in=matching.values("record_id"))
        expression = _sortable(item)
        alias = f"_f_{len(queryset.query.annotations)}"
        return queryset.alias(**{alias: expression}).filter(**{f"{alias}__in": [_comparable(item, v) for v in values]})
    if encrypted:
        raise Invalid(fields={what: _("%(name)s is encrypted; only equality filters work on it.") % {"name": name}})
    alias = f"_f_{len(queryset.query.annotations)}"
    if op == "prefix":
        text = str(raw)
        if not text:
            raise Invalid(fields={what: _("Give the beginning of the value.")})
        return queryset.alias(**{alias: KeyTextTransform(name, "values")}).filter(**{f"{alias}__startswith": text})
    if item.type in (FieldType.TEXT, FieldType.BOOLEAN, FieldType.ENUM, FieldType.EMAIL):
        raise Invalid(fields={what: _("%(name)s is not a number or a date; use eq, in or prefix.") % {"name": name}})
    value = _comparable(item, _value(item, raw, what))
    return queryset.alias(**{alias: _sortable(item)}).filter(**{f"{alias}__{RANGE_OPERATORS[op]}": value})


def _consented(view: DatasetView, purpose: str, now) -> QuerySet[Consent] | None:
    """The consents that admit records to this reader, or None when no consent is needed."""
    if not view.dataset.consent_required or view.access.sees_all:
        return None
    if purpose not in Consent.Purpose.values:
        raise Invalid(
            fields={"purpose": _("This dataset needs the data subject's consent; say your purpose of use: %(codes)s.")
                    % {"codes": ", ".join(Consent.Purpose.values)}}
        )  # fmt: skip
    return Consent.objects.filter(
        dataset_id=view.dataset.pk,
        grantee_department_id__in=view.access.consent_departments,
        purpose=purpose,
        withdrawn_at__isnull=True,
        valid_from__lte=now,
        valid_until__gt=now,
    )


def _encode_cursor(values: list) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, separators=(",", ":")).encode()).decode().rstrip("=")


def _decode_cursor(text: str, length: int) -> list:
    try:
        padded = text + "=" * (-len(text) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if (
        not isinstance(values, list)
        or len(values) != length
        or isinstance(values[-1], bool)
        or not isinstance(values[-1], int)
        or not 0 <= values[-1] <= MAX_DB_INT
        or not all(_cursor_value(v) for v in values[:-1])
    ):
        raise Invalid(fields={"cursor": _("Not a cursor from a previous page; start without one.")})
    return values


def _sorts_as(item: DatasetField, value) -> bool:
    """Whether a cursor's sort value has the kind the field sorts by (a tampered cursor could not)."""
    if item.type == FieldType.DECIMAL:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if item.type == FieldType.INTEGER:
        return isinstance(value, int) and not isinstance(value, bool)
    if item.type == FieldType.BOOLEAN:
        return isinstance(value, bool)
    return isinstance(value, str)


def _cursor_value(value) -> bool:
    """A sort value a page can have ended on: null, a truth value, a bounded number or a short text."""
    if value is None or isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -MAX_DB_INT <= value <= MAX_DB_INT
    if isinstance(value, float):
        return math.isfinite(value)
    return isinstance(value, str) and len(value) <= 10_000 and "\x00" not in value


def _limit(limit: int) -> int:
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_LIMIT:
        raise Invalid(fields={"limit": _("From 1 to %(n)s.") % {"n": MAX_LIMIT}})
    return limit


def _selected(view: DatasetView, wanted: list[str] | None) -> list[str]:
    shown = view.access.shown()
    if not wanted:
        return shown
    unknown = [n for n in wanted if n not in shown]
    if unknown:
        raise Invalid(fields={"fields": _("No field named %(names)s.") % {"names": ", ".join(unknown)}})
    return list(dict.fromkeys(wanted))


def masked_fields(view: DatasetView, names: list[str]) -> dict[str, DatasetField]:
    """The fields among `names` this reader sees masked."""
    return {name: view.codec.by_name[name] for name in names if view.access.views[name] == FieldView.MASKED}


class RowShape:
    """How a stored row becomes what this reader sees of `names`: decrypted where the field is encrypted,
    masked by its rule where the policy says masked, hidden fields left out. Worked out once per page
    into steps for the fields that need one, so a plain field costs a dictionary lookup a row."""

    def __init__(self, view: DatasetView, names: list[str]) -> None:
        codec = view.codec
        self.names = names
        masked = masked_fields(view, names)
        self._columns = (RECORD_ID, *names)  # first in every row; the stored values never hold it
        self._steps = []
        for name in names:
            if name in codec.encrypted:
                self._steps.append((name, self._decrypting(codec, name, masked.get(name))))
            elif name in masked:
                self._steps.append((name, self._masking(codec, codec.by_name[name])))

    @staticmethod
    def _masking(codec: Codec, item: DatasetField):
        hide = masker(item.masking, item.type, hasher=codec.hasher)
        return lambda _key, value: hide(value)

    @staticmethod
    def _decrypting(codec: Codec, name: str, masked_as: DatasetField | None):
        decrypt, aad, loads = codec.keyring.decrypt, codec.aad, orjson.loads
        if masked_as is None:
            return lambda key, token: loads(decrypt(token, aad=aad(key, name)))
        hide = masker(masked_as.masking, masked_as.type, hasher=codec.hasher)
        return lambda key, token: hide(loads(decrypt(token, aad=aad(key, name))))

    def __call__(self, key: str, stored: dict[str, Any]) -> dict[str, Any]:
        get = stored.get
        shown = {name: get(name) for name in self._columns}
        shown[RECORD_ID] = key
        for name, step in self._steps:
            value = shown[name]
            if value is not None:
                shown[name] = step(key, value)
        return shown


def shown_row(view: DatasetView, key: str, stored: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """One record as this reader may see it (`RowShape` for many)."""
    return RowShape(view, names)(key, stored)


def _stored_rows(queryset: QuerySet, *columns: str) -> list[tuple]:
    """`columns` and the stored values of each row, parsed with orjson. Run on the cursor, with the
    converters Django would apply, and the values column read as its text: Django's row iteration and
    JSONField decoding took twice as long as the query on a page of a thousand rows."""
    as_text = ExpressionWrapper(F("values"), output_field=TextField())  # the column itself, no CAST
    compiler = (
        queryset.annotate(_values_text=as_text)
        .values_list(*columns, "_values_text")
        .query.get_compiler(using=queryset.db)
    )
    sql, params = compiler.as_sql()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    converters = compiler.get_converters([expression for expression, *_ in compiler.select[: compiler.col_count]])
    if converters:
        rows = compiler.apply_converters(rows, converters)
    loads = orjson.loads
    return [(*row[:-1], loads(row[-1])) for row in rows]


def read_records(actor, view: DatasetView, query: RecordQuery, *, via: str = "api", log: bool = True) -> RecordPage:
    """A page of records; `log=False` when the caller records one read event for several pages."""
    require_read(view)
    limit = _limit(query.limit)
    names = _selected(view, query.fields)
    now = timezone.now()
    queryset = Record.objects.filter(dataset_id=view.dataset.pk)
    consents = _consented(view, query.purpose, now)
    if consents is not None:
        queryset = queryset.filter(subject__in=consents.values("subject"))
    for name, op, raw in query.filters:
        queryset = _filter(view, queryset, name, op, raw)
    if query.text:
        searchable = [
            n for n in view.access.full() if n not in view.codec.encrypted and view.codec.by_name[n].type == "text"
        ]
        if not searchable:
            raise Invalid(fields={"q": _("No text field you see in full to search in.")})
        text_q = Q()
        for n, name in enumerate(searchable):
            queryset = queryset.alias(**{f"_q{n}": KeyTextTransform(name, "values")})
            text_q |= Q(**{f"_q{n}__icontains": query.text})
        queryset = queryset.filter(text_q)
    descending = query.sort.startswith("-")
    sort_name = query.sort.lstrip("-")
    if sort_name:
        item = _full_plain(view, sort_name, "sort")
        if sort_name in view.codec.encrypted:
            raise Invalid(fields={"sort": _("%(name)s is encrypted and cannot be sorted on.") % {"name": sort_name}})
        queryset = queryset.alias(_sort=_sortable(item))
        if query.cursor:
            last, last_pk = _decode_cursor(query.cursor, 2)
            if last is not None and not _sorts_as(item, last):
                raise Invalid(fields={"cursor": _("Not a cursor from a previous page; start without one.")})
            if last is None:
                queryset = queryset.filter(_sort__isnull=True, pk__gt=last_pk)
            else:
                step = "lt" if descending else "gt"
                queryset = queryset.filter(
                    Q(**{f"_sort__{step}": last}) | Q(_sort=last, pk__gt=last_pk) | Q(_sort__isnull=True)
                )
        order = F("_sort").desc(nulls_last=True) if descending else F("_sort").asc(nulls_last=True)
        queryset = queryset.order_by(order, "pk")
    else:
        if query.cursor:
            (last_pk,) = _decode_cursor(query.cursor, 1)
            queryset = queryset.filter(pk__gt=last_pk)
        queryset = queryset.order_by("pk")
    rows = _stored_rows(queryset[: limit + 1], "pk", "key", "subject")
    more = len(rows) > limit
    rows = rows[:limit]
    shape = RowShape(view, names)
    shown = [shape(key, stored) for _pk, key, _subject, stored in rows]
    next_cursor = None
    if more:
        last_pk, _key, _subject, last_values = rows[-1]
        if sort_name:
            item = view.codec.by_name[sort_name]
            sort_value = last_values.get(sort_name)
            next_cursor = _encode_cursor([_comparable(item, sort_value) if sort_value is not None else None, last_pk])
        else:
            next_cursor = _encode_cursor([last_pk])
    used = _consents_used(consents, [subject for _pk, _key, subject, _stored in rows])
    if log:
        note_records_read(actor, view, len(shown), names, used, via=via)
    return RecordPage(shown, names, next_cursor, list(masked_fields(view, names)), used)


def _consents_used(consents: QuerySet[Consent] | None, subjects: list[str]) -> list[int]:
    if consents is None or not subjects:
        return []
    return sorted(consents.filter(subject__in=set(subjects)).values_list("pk", flat=True))


_RECORD_BY_KEY = PreparedRead(
    lambda dataset_id, key: (
        Record.objects.filter(dataset_id=dataset_id, key=key).order_by().values_list("key", "values", "subject")[:1]
    ),  # the key is unique within the dataset
    dataset_id=int,
    key=str,
)


def record_by_key(actor, view: DatasetView, key_values: dict[str, str], *, purpose: str = "", via: str = "api"):
    """One record by its key fields' values (the key fields must be ones the reader sees in full)."""
    require_read(view)
    if not view.codec.key_fields:
        raise NotFound()
    parsed = {}
    for item in view.codec.key_fields:
        _full_plain(view, item.name, item.name)
        if item.name not in key_values:
            raise Invalid(fields={item.name: _("Part of the record key; give it.")})
        parsed[item.name] = _value(item, key_values[item.name], item.name)
    key = view.codec.key_of(parsed)
    consents = _consented(view, purpose, timezone.now())
    if consents is None:
        rows = _RECORD_BY_KEY.rows(dataset_id=view.dataset.pk, key=key)
        found = rows[0] if rows else None
    else:
        queryset = Record.objects.filter(dataset_id=view.dataset.pk, key=key)
        found = queryset.filter(subject__in=consents.values("subject")).values_list("key", "values", "subject").first()
    if found is None:
        raise NotFound(_("No record with this key."))
    names = view.access.shown()
    used = _consents_used(consents, [found[2]])
    note_records_read(actor, view, 1, names, used, via=via)
    return shown_row(view, found[0], found[1], names)


def readable_record(view: DatasetView, key: str, *, purpose: str = "") -> Record | None:
    """The record with this `_id` if this reader may read it now (with consent, for `purpose`), else None."""
    require_read(view)
    if not isinstance(key, str) or not key or len(key) > 64:
        return None
    queryset = Record.objects.filter(dataset=view.dataset, key=key)
    consents = _consented(view, purpose, timezone.now())
    if consents is not None:
        queryset = queryset.filter(subject__in=consents.values("subject"))
    return queryset.first()


def read_changes(actor, view: DatasetView, *, since: int, limit: int, purpose: str = "", via: str = "api"):
    """Changes after `since`, as this reader may see them; with consent, only changes of records whose
    subject consents now (a withdrawal hides the subject's past changes too)."""
    require_read(view)
    limit = _limit(limit)
    if isinstance(since, bool) or not isinstance(since, int) or not 0 <= since <= MAX_DB_INT:
        raise Invalid(fields={"since": _("A change number, 0 or more.")})
    queryset = Change.objects.filter(dataset_id=view.dataset.pk, seq__gt=since)
    consents = _consented(view, purpose, timezone.now())
    if consents is not None:
        queryset = queryset.filter(subject__in=consents.values("subject"))
    rows = _stored_rows(queryset.order_by("seq")[:limit], "seq", "op", "key", "version", "created_at", "subject")
    names = view.access.shown()
    shape = RowShape(view, names)
    changes = []
    for seq, op, key, version, created_at, _subject, stored in rows:
        change = {"seq": seq, "op": op, RECORD_ID: key, "version": version, "at": created_at}
        if op == Change.Op.DELETE:
            change["values"] = None
        else:
            change["values"] = shape(key, stored)
            del change["values"][RECORD_ID]
        changes.append(change)
    last = rows[-1][0] if rows else since
    used = _consents_used(consents, [row[5] for row in rows])
    note_records_read(actor, view, len(changes), names, used, via=via)
    return changes, last, (view.dataset.last_change if view.shown_count is not None else None)


def note_records_read(actor, view: DatasetView, count: int, names: list[str], consents: list[int], *, via: str):
    """One event for a read of non-open records (or of consented ones) by someone outside the owner
    department: how many rows, which fields, and the consents relied on."""
    if count == 0 or (view.access.sees_all and not _is_admin_outsider(actor, view)):
        return
    if view.resource.sharing_type == Resource.SharingType.OPEN and not view.dataset.consent_required:
        return
    # `record` is one transaction of its own (committed before the answer leaves), or part of the caller's
    record(
        actor,
        "dataset.records_read",
        view.resource,
        departments=[view.resource.owner_department_id],
        details={
            "code": view.resource.code,
            "via": via,
            "rows": count,
            "fields": names,
            "masked": [n for n in names if view.access.views[n] == FieldView.MASKED],
            "grants": list(view.access.grant_ids),
            "consents": consents[:MAX_LOGGED_CONSENTS],
            "consents_total": len(consents),  # the list stops at MAX_LOGGED_CONSENTS ids; this says if it did
        },
    )


def _is_admin_outsider(actor, view: DatasetView) -> bool:
    from sharehub.policy.engine import context_for

    ctx = context_for(actor)
    return ctx.is_admin and view.resource.owner_department_id not in ctx.department_ids
