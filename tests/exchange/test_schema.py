"""Schema changes: versions, changes that would break a grant or stored values, the migrated field list."""

from __future__ import annotations

import pytest

from sharehub.errors import Conflict, Invalid
from sharehub.exchange import schema
from sharehub.exchange.models import SchemaVersion
from tests.api.conftest import Api
from tests.exchange.conftest import TAX_FIELDS, grant

pytestmark = pytest.mark.django_db


def test_each_change_is_a_new_version(tax_dataset, people):
    before = tax_dataset.dataset.schema_version
    schema.change_dataset(people["tax_steward"], tax_dataset, [*TAX_FIELDS, {"name": "extra"}])
    tax_dataset.dataset.refresh_from_db()
    assert tax_dataset.dataset.schema_version == before + 1
    latest = SchemaVersion.objects.filter(dataset=tax_dataset.dataset).first()
    assert latest.fields[-1]["name"] == "extra" and latest.key_fields == ["credit_code"]
    schema.change_dataset(people["tax_steward"], tax_dataset, [*TAX_FIELDS, {"name": "extra"}])
    tax_dataset.dataset.refresh_from_db()
    assert tax_dataset.dataset.schema_version == before + 1  # nothing changed, no version


def test_removing_or_retyping_a_granted_field_is_refused_and_names_the_grant(tax_dataset, people, org_units):
    held = grant(tax_dataset, department=org_units["social"], fields=["phone"])
    without_phone = [f for f in TAX_FIELDS if f["name"] != "phone"]
    with pytest.raises(Conflict, match=f"grant #{held.pk}"):
        schema.change_dataset(people["tax_steward"], tax_dataset, without_phone)
    retyped = [f | {"type": "text"} if f["name"] == "phone" else f for f in TAX_FIELDS]
    with pytest.raises(Conflict, match="phone"):
        schema.change_dataset(people["tax_steward"], tax_dataset, retyped)
    relabelled = [f | {"label_en": "Phone"} if f["name"] == "phone" else f for f in TAX_FIELDS]
    schema.change_dataset(people["tax_steward"], tax_dataset, relabelled)  # harmless: allowed


def test_with_records_the_key_and_types_stay(loaded, people):
    with pytest.raises(Conflict, match="2 records"):
        schema.change_dataset(people["tax_steward"], loaded, TAX_FIELDS, key_fields=["name"])
    encrypted_to_plain = [f | {"sensitivity": "internal"} if f["name"] == "legal_id" else f for f in TAX_FIELDS]
    with pytest.raises(Conflict, match="encrypted"):
        schema.change_dataset(people["tax_steward"], loaded, encrypted_to_plain)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ([{"name": "_id"}], "starting with a letter"),
        ([{"name": "a"}, {"name": "a"}], "twice"),
        ([{"name": "a", "type": "blob"}], "type must be"),
        ([{"name": "a", "type": "enum"}], "choice field needs"),
        ([{"name": "a", "sensitivity": "top"}], "sensitivity must be"),
        ([{"name": "a", "masking": "blur"}], "masking must be"),
        ([{"name": "a", "required": "yes"}], "true or false"),
        ([{"name": "a", "description": "x\x00"}], "NUL"),
        ([{"name": "a", "source": 999999}], "authoritative source"),
        ("not a list", "Must be a list"),
    ],
)
def test_bad_schemas_name_the_problem(tax_dataset, people, fields, reason):
    response = Api(people["tax_steward"]).client.put(
        f"/api/v1/datasets/{tax_dataset.pk}/schema",
        {"fields": fields, "key_fields": []},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    assert reason in str(response.json()["error"])


def test_outsiders_cannot_change_the_schema(tax_dataset, people):
    response = Api(people["social_member"]).client.put(
        f"/api/v1/datasets/{tax_dataset.pk}/schema", {"fields": TAX_FIELDS}, content_type="application/json"
    )
    assert response.status_code == 403


def test_unknown_key_field_is_refused(tax_dataset, people):
    with pytest.raises(Invalid) as refused:
        schema.change_dataset(people["tax_steward"], tax_dataset, TAX_FIELDS, key_fields=["nope"])
    assert "No field named nope" in refused.value.fields["key_fields"]


def test_a_source_the_steward_cannot_see_reads_like_a_missing_one(tax_dataset, people, org_units):
    from tests import factories

    hidden = factories.resource(org_units["health"], kind="dataset", sharing_type="restricted", title="病历")
    fields = [f | {"source": hidden.pk} if f["name"] == "name" else f for f in TAX_FIELDS]
    with pytest.raises(Invalid) as refused:
        schema.change_dataset(people["tax_steward"], tax_dataset, fields)
    assert f"(id {hidden.pk})" in refused.value.fields["dataset_fields"]
