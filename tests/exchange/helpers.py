"""Datasets with encrypted values made straight from the models, for tests that need stored tokens before the
record services exist. `seed(n)` also serves subprocess tests (see SEED)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from sharehub.catalog.models import Resource
from sharehub.exchange import crypto
from sharehub.exchange.models import Change, Correction, Dataset, DatasetField, Record, Sensitivity

FIELDS = (("name", Sensitivity.INTERNAL), ("id_number", Sensitivity.SECRET), ("phone", Sensitivity.SENSITIVE))
ENCRYPTED = {name for name, level in FIELDS if level in (Sensitivity.SENSITIVE, Sensitivity.SECRET)}


def make_dataset(owner=None) -> Dataset:
    from tests import factories

    resource = factories.resource(owner or factories.department(), kind=Resource.Kind.DATASET)
    dataset, _created = Dataset.objects.update_or_create(resource=resource, defaults={"key_fields": ["id_number"]})
    dataset.fields.all().delete()
    for position, (name, level) in enumerate(FIELDS):
        DatasetField.objects.create(dataset=dataset, position=position, name=name, sensitivity=level)
    return dataset


def seal(dataset_id: int, key: str, plain: dict) -> dict:
    ring = crypto.keyring()
    return {
        field: ring.encrypt(value, aad=crypto.aad_for(dataset_id, key, field)) if field in ENCRYPTED else value
        for field, value in plain.items()
    }


def unseal(dataset_id: int, key: str, values: dict) -> dict:
    ring = crypto.keyring()
    return {
        field: ring.decrypt(value, aad=crypto.aad_for(dataset_id, key, field)) if field in ENCRYPTED else value
        for field, value in values.items()
    }


def plain_row(i: int) -> dict:
    return {"name": f"张三{i}", "id_number": f"11010119900307{i:04d}", "phone": f"138{i:08d}"}


def add_record(dataset: Dataset, key: str, plain: dict) -> Record:
    """A record and its insert change, both stored as the record services store them."""
    dataset.last_change += 1
    dataset.record_count += 1
    dataset.save(update_fields=["last_change", "record_count"])
    record = Record.objects.create(dataset=dataset, key=key, values=seal(dataset.pk, key, plain), fingerprint="-")
    Change.objects.create(
        dataset=dataset,
        seq=dataset.last_change,
        op=Change.Op.INSERT,
        key=key,
        values=seal(dataset.pk, key, plain),
        version=1,
    )
    return record


def add_correction(dataset: Dataset, record_key: str, field: str, proposed: str) -> Correction:
    if field in ENCRYPTED:
        proposed = crypto.keyring().encrypt(proposed, aad=crypto.aad_for(dataset.pk, record_key, field))
    return Correction.objects.create(
        dataset=dataset,
        record_key=record_key,
        field=field,
        proposed=proposed,
        evidence="户籍证明",
        due_at=timezone.now() + timedelta(days=5),
    )


def seed(count: int) -> None:
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    dataset = make_dataset()
    for i in range(count):
        add_record(dataset, f"R{i:05d}", plain_row(i))


# Run by `python -c` in a subprocess: migrates the database of SHAREHUB_DATA_DIR / DATABASE_URL and stores n
# records (with their changes) under the active key.
SEED = "import sys, django; django.setup(); from tests.exchange.helpers import seed; seed(int(sys.argv[1]))"
