"""A dataset's schema: checking a field list, and replacing it as a new schema version.

The catalog calls in here when a dataset's entry is created or edited with `dataset_fields`; the
exchange API calls in here to change the schema and the record key."""

from __future__ import annotations

import re
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.errors import Conflict, Invalid
from sharehub.events.services import record
from sharehub.exchange.masking import MaskRule
from sharehub.exchange.models import Dataset, DatasetField, SchemaVersion, Sensitivity
from sharehub.exchange.types import FieldType

FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# The looser names the catalog accepted before records existed; "_" first is kept for the record's `_id`.
LEGACY_FIELD_NAME = re.compile(r"^(?!_)[\w\-. ]{1,64}$")
MAX_FIELDS = 200
MAX_KEY_FIELDS = 5
MAX_CHOICES = 500
ATTRIBUTES = (
    "name",
    "label_zh",
    "label_en",
    "type",
    "required",
    "description",
    "sensitivity",
    "masking",
    "choices",
    "source_id",
    "source_field",
)
# Changing these of a field whose values are stored would need every stored value rewritten.
STORAGE_ATTRIBUTES = ("type", "choices")
TYPE_ALIASES = {"string": "text", "str": "text", "int": "integer", "number": "decimal", "bool": "boolean"}


def as_dict(field: DatasetField) -> dict[str, Any]:
    return {
        "name": field.name,
        "label_zh": field.label_zh,
        "label_en": field.label_en,
        "type": field.type,
        "required": field.required,
        "description": field.description,
        "sensitivity": field.sensitivity,
        "masking": field.masking,
        "choices": list(field.choices or []),
        "source": field.source_id,
        "source_field": field.source_field,
    }


def _text(item: dict, name: str, limit: int) -> str:
    value = item.get(name)
    if value is None:
        return ""
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise ValueError(_("%(attr)s must be text.") % {"attr": name})
    text = str(value).strip()
    if "\x00" in text:
        raise ValueError(_("%(attr)s must not contain NUL characters.") % {"attr": name})
    if len(text) > limit:
        raise ValueError(_("%(attr)s is longer than %(n)s characters.") % {"attr": name, "n": limit})
    return text


def _clean_one(item: Any, *, legacy_names: bool) -> dict[str, Any]:
    if isinstance(item, str):
        item = {"name": item}
    if not isinstance(item, dict):
        raise ValueError(_("must be an object with a name."))
    name = _text(item, "name", 64)
    pattern = LEGACY_FIELD_NAME if legacy_names else FIELD_NAME
    if not pattern.fullmatch(name):
        raise ValueError(
            _("needs a name of at most 64 letters, digits or _, starting with a letter (got %(name)r).")
            % {"name": name}
        )
    kind = _text(item, "type", 30).lower() or FieldType.TEXT
    kind = TYPE_ALIASES.get(kind, kind)
    if kind not in FieldType.values:
        raise ValueError(
            _("%(name)s: type must be one of %(types)s.") % {"name": name, "types": ", ".join(FieldType.values)}
        )
    sensitivity = _text(item, "sensitivity", 10) or Sensitivity.INTERNAL
    if sensitivity not in Sensitivity.values:
        raise ValueError(
            _("%(name)s: sensitivity must be one of %(levels)s.")
            % {"name": name, "levels": ", ".join(Sensitivity.values)}
        )
    default_mask = {Sensitivity.SENSITIVE: MaskRule.PARTIAL, Sensitivity.SECRET: MaskRule.HIDDEN}.get(
        sensitivity, MaskRule.NONE
    )
    masking = _text(item, "masking", 10) or default_mask
    if masking not in MaskRule.values:
        raise ValueError(
            _("%(name)s: masking must be one of %(rules)s.") % {"name": name, "rules": ", ".join(MaskRule.values)}
        )
    required = item.get("required", False)
    if not isinstance(required, bool):
        raise ValueError(_("%(name)s: required must be true or false.") % {"name": name})
    choices = item.get("choices") or []
    if kind == FieldType.ENUM:
        if isinstance(choices, str):
            choices = re.split(r"[|,，、]", choices)
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            raise ValueError(_("%(name)s: choices must be a list of texts.") % {"name": name})
        choices = list(dict.fromkeys(c.strip() for c in choices if c.strip()))
        if not choices or len(choices) > MAX_CHOICES or any(len(c) > 100 for c in choices):
            raise ValueError(
                _("%(name)s: a choice field needs 1 to %(n)s choices of at most 100 characters.")
                % {"name": name, "n": MAX_CHOICES}
            )
    else:
        choices = []
    label = _text(item, "label", 100)
    return {
        "name": name,
        "label_zh": _text(item, "label_zh", 100) or (label if re.search(r"[\u3400-\u9fff]", label) else ""),
        "label_en": _text(item, "label_en", 100) or (label if not re.search(r"[\u3400-\u9fff]", label) else ""),
        "type": kind,
        "required": required,
        "description": _text(item, "description", 300),
        "sensitivity": sensitivity,
        "masking": masking,
        "choices": choices,
        "source_id": _source_id(item, name),
        "source_field": _text(item, "source_field", 64),
    }


def _source_id(item: dict, name: str) -> int | None:
    source = item.get("source")
    if source in (None, ""):
        return None
    if isinstance(source, bool) or not isinstance(source, int | str) or not str(source).isdigit():
        raise ValueError(_("%(name)s: source must be the id of a dataset.") % {"name": name})
    return int(source)


def clean_fields(raw: Any, *, legacy_names: bool = True) -> list[dict[str, Any]]:
    """The field list as the catalog and the API accept it, checked; raises ValueError with the reason.

    `legacy_names`: the catalog's looser names (spaces, dots, dashes, CJK) are still accepted there, so
    that existing entries stay editable; the exchange API asks for names usable as query parameters."""
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        raise ValueError(_("Fields must be a list."))
    if len(raw) > MAX_FIELDS:
        raise ValueError(_("At most %(n)s fields.") % {"n": MAX_FIELDS})
    cleaned, seen = [], set()
    for index, item in enumerate(raw, start=1):
        try:
            field = _clean_one(item, legacy_names=legacy_names)
        except ValueError as error:
            raise ValueError(_("Field %(n)s %(reason)s") % {"n": index, "reason": error}) from None
        if field["name"] in seen:
            raise ValueError(_("Field %(name)s is listed twice.") % {"name": field["name"]})
        seen.add(field["name"])
        cleaned.append(field)
    return cleaned


def ensure_dataset(resource) -> Dataset:
    dataset, _created = Dataset.objects.get_or_create(resource=resource)
    return dataset


def _locked(resource) -> Dataset:
    ensure_dataset(resource)
    return Dataset.objects.select_for_update().get(pk=resource.pk)


def _breaking_grants(dataset: Dataset, before: dict[str, dict], after: dict[str, dict]) -> list[str]:
    """Active grants naming a field that the change removes or retypes."""
    from sharehub.access.models import Grant

    touched = {
        name for name, old in before.items() if name not in after or after[name]["type"] != old["type"]
    }  # fmt: skip
    if not touched:
        return []
    grants = Grant.objects.filter(
        Q(valid_until__gt=timezone.now()), resource_id=dataset.pk, revoked_at__isnull=True
    ).select_related("grantee_user", "grantee_department")
    named = []
    for grant in grants:
        hit = touched.intersection(grant.fields or [])
        if hit:
            grantee = grant.grantee_department or grant.grantee_user
            named.append(
                _("grant #%(id)s to %(grantee)s (fields %(fields)s)")
                % {"id": grant.pk, "grantee": grantee, "fields": ", ".join(sorted(hit))}
            )
    return named


def _clean_key(key_fields: Any, fields: dict[str, dict]) -> list[str]:
    if key_fields in (None, ""):
        return []
    if isinstance(key_fields, str):
        key_fields = [k.strip() for k in key_fields.split(",") if k.strip()]
    if not isinstance(key_fields, list) or not all(isinstance(k, str) for k in key_fields):
        raise Invalid(fields={"key_fields": _("The record key must be a list of field names.")})
    key_fields = list(dict.fromkeys(key_fields))
    unknown = [k for k in key_fields if k not in fields]
    if unknown:
        raise Invalid(fields={"key_fields": _("No field named %(names)s.") % {"names": ", ".join(unknown)}})
    if len(key_fields) > MAX_KEY_FIELDS:
        raise Invalid(fields={"key_fields": _("At most %(n)s key fields.") % {"n": MAX_KEY_FIELDS}})
    return key_fields


@transaction.atomic
def replace_fields(
    actor, resource, raw_fields: Any, *, key_fields: Any = None, legacy_names: bool = True, announce: bool = True
) -> bool:
    """Make `raw_fields` (and `key_fields`, when given) the dataset's schema, as a new version.

    Refused (Conflict, naming them) when an active grant names a field the change removes or retypes;
    refused when the dataset holds records and the change would need stored values rewritten (a
    retyped field, a new record key). Returns whether anything changed. `announce`: record the change
    as its own event (the catalog's edit records one event that names the field list instead)."""
    try:
        cleaned = clean_fields(raw_fields, legacy_names=legacy_names)
    except ValueError as error:
        raise Invalid(fields={"dataset_fields": str(error)}) from None
    dataset = _locked(resource)
    current = list(dataset.fields.all())
    before = {f.name: as_dict(f) | {"source_id": f.source_id} for f in current}
    after = {f["name"]: f for f in cleaned}
    keys = dataset.key_fields if key_fields is None else _clean_key(key_fields, after)
    missing_keys = [k for k in keys if k not in after]
    if missing_keys:
        raise Invalid(
            fields={"key_fields": _("The record key uses %(names)s; keep them.") % {"names": ", ".join(missing_keys)}}
        )
    comparable_before = [{a: before[n][a] for a in ATTRIBUTES} for n in before]
    if comparable_before == cleaned and keys == dataset.key_fields:
        return False
    broken = _breaking_grants(dataset, before, after)
    if broken:
        raise Conflict(
            _("This change removes or retypes fields that active grants name: %(grants)s. Revoke them first.")
            % {"grants": "; ".join(broken)},
            fields={"dataset_fields": _("named by active grants")},
        )
    _check_stored_values(dataset, before, after, keys)
    _check_sources(actor, after, resource)
    DatasetField.objects.filter(dataset=dataset).delete()
    DatasetField.objects.bulk_create(
        [DatasetField(dataset=dataset, position=i, **f) for i, f in enumerate(cleaned, start=1)]
    )
    _forget_cached(resource)
    dataset.key_fields = keys
    dataset.schema_version += 1 if current or dataset.versions.exists() else 0
    dataset.save(update_fields=["key_fields", "schema_version"])
    SchemaVersion.objects.update_or_create(
        dataset=dataset,
        number=dataset.schema_version,
        defaults={"fields": [_snapshot(f) for f in cleaned], "key_fields": keys, "author": _person(actor)},
    )
    if not announce:
        return True
    record(
        actor,
        "dataset.schema_changed",
        resource,
        departments=[resource.owner_department_id],
        details={
            "code": resource.code,
            "schema_version": dataset.schema_version,
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": sorted(n for n in set(after) & set(before) if after[n] != {a: before[n][a] for a in ATTRIBUTES}),
            "key_fields": keys,
        },
    )
    return True


def _forget_cached(resource) -> None:
    """The resource's cached dataset (and its prefetched fields) no longer tell the truth."""
    resource._state.fields_cache.pop("dataset", None)


def _snapshot(field: dict) -> dict:
    snap = {k: v for k, v in field.items() if k != "source_id"}
    snap["source"] = field.get("source_id")
    return snap


def _person(actor):
    return actor if getattr(actor, "pk", None) else None


def _encrypted(field: dict) -> bool:
    return field["sensitivity"] in ("sensitive", "secret")


def _check_stored_values(dataset: Dataset, before: dict, after: dict, keys: list[str]) -> None:
    has_records = bool(dataset.record_count) or dataset.records.exists()
    if not has_records and not dataset.changes.exists():
        return
    problems = []
    if has_records and keys != dataset.key_fields:
        problems.append(_("the record key"))
    for name, old in before.items():
        new = after.get(name)
        if new is not None and has_records and any(new[a] != old[a] for a in STORAGE_ATTRIBUTES):
            problems.append(_("the type or choices of %(name)s") % {"name": name})
    # Values stay stored as they were written: in the records, and in the change feed after the records are
    # deleted; a field removed and added again finds them too. Whether a name is encrypted never changes.
    earlier: dict[str, set[bool]] = {name: {_encrypted(old)} for name, old in before.items()}
    for fields in dataset.versions.values_list("fields", flat=True):
        for old in fields or []:
            if isinstance(old, dict) and "sensitivity" in old:
                earlier.setdefault(old.get("name"), set()).add(_encrypted(old))
    flipped = [name for name, new in after.items() if earlier.get(name, set()) - {_encrypted(new)}]
    if flipped and not has_records and not problems:
        raise Conflict(
            _(
                "The change feed holds values of %(names)s stored as they were written; whether a field is encrypted "
                "(sensitive or secret) cannot change. Add a field with a new name instead."
            )
            % {"names": ", ".join(flipped)},
            fields={"dataset_fields": _("would change how stored values are kept")},
        )
    problems += [_("whether %(name)s is encrypted (sensitive or secret)") % {"name": name} for name in flipped]
    if problems:
        raise Conflict(
            _(
                "The dataset holds %(n)s records, stored under the current schema; this change would alter %(what)s. "
                "Export the records, delete them all, change the schema, then import again."
            )
            % {"n": dataset.record_count, "what": "; ".join(problems)},
            fields={"dataset_fields": _("would change how stored values are kept")},
        )


def _check_sources(actor, after: dict, resource) -> None:
    """Sources must be datasets the actor may see; one they may not see is refused like a missing one."""
    from sharehub.catalog.models import Resource
    from sharehub.policy.engine import visible

    wanted = {f["source_id"] for f in after.values() if f["source_id"]}
    if not wanted:
        return
    candidates = Resource.objects.filter(pk__in=wanted, kind=Resource.Kind.DATASET)
    found = set(visible(actor, candidates).values_list("pk", flat=True))
    missing = wanted - found
    if missing or resource.pk in wanted:
        raise Invalid(
            fields={"dataset_fields": _("An authoritative source must be another dataset (id %(ids)s).")
                    % {"ids": ", ".join(str(i) for i in sorted(missing or {resource.pk}))}}
        )  # fmt: skip


@transaction.atomic
def change_dataset(
    actor,
    resource,
    raw_fields: Any,
    *,
    key_fields: Any = None,
    consent_required: bool | None = None,
    subject_field: str | None = None,
) -> None:
    """The schema page and API: fields, record key and consent settings, by a member of the owner."""
    from sharehub.catalog.models import Resource
    from sharehub.errors import Forbidden
    from sharehub.policy.engine import Action, can

    decision = can(actor, Action.EDIT, resource)
    if not decision:
        raise Forbidden(decision.message)
    if resource.kind != Resource.Kind.DATASET:
        raise Invalid(fields={"fields": _("Only a dataset has fields.")})
    changed = replace_fields(actor, resource, raw_fields, key_fields=key_fields, legacy_names=False)
    dataset = _locked(resource)
    consent = dataset.consent_required if consent_required is None else consent_required
    subject = dataset.subject_field if subject_field is None else subject_field.strip()
    if consent and subject not in {f.name for f in dataset.fields.all()}:
        raise Invalid(fields={"subject_field": _("A consent dataset needs the field that names the data subject.")})
    if (consent, subject) == (dataset.consent_required, dataset.subject_field):
        return
    if dataset.record_count or dataset.records.exists():
        raise Conflict(
            _("The dataset holds records; consent settings can change only while it is empty."),
            fields={"consent_required": _("would change which records consents admit")},
        )
    dataset.consent_required, dataset.subject_field = consent, subject if consent else ""
    dataset.save(update_fields=["consent_required", "subject_field"])
    if not changed:
        record(
            actor,
            "dataset.schema_changed",
            resource,
            departments=[resource.owner_department_id],
            details={"code": resource.code, "consent_required": consent, "subject_field": dataset.subject_field},
        )
