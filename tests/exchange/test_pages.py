"""The data tab, the schema editor and the import pages."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from sharehub.exchange.models import ImportJob, Record
from tests.exchange.conftest import grant

pytestmark = pytest.mark.django_db


def url(name, resource, *args):
    return reverse(f"exchange:{name}", args=[resource.code, *args])


def test_data_tab_shows_the_grantee_masked_values(client_for, loaded, people, org_units):
    grant(loaded, department=org_units["social"], fields=["name"])
    html = client_for(people["social_member"]).get(url("data", loaded)).content.decode()
    assert "福州示例科技有限公司" in html and "110105********002X" in html
    assert "11010519491231002X" not in html and "重点关注" not in html
    assert "Authorization: Bearer YOUR_TOKEN" in html and f"/api/v1/datasets/{loaded.pk}/records" in html


def test_data_tab_without_grant_offers_the_request(client_for, loaded, people):
    response = client_for(people["social_member"]).get(url("data", loaded))
    html = response.content.decode()
    assert response.status_code == 200 and "Request access" in html and "福州" not in html


def test_data_tab_of_an_unseen_dataset_is_404(client_for, org_units, people):
    from tests import factories

    hidden = factories.resource(org_units["tax"], by=people["tax_steward"], kind="dataset", sharing_type="restricted")
    assert client_for(people["social_member"]).get(url("data", hidden)).status_code == 404


def test_bad_filter_is_a_clear_422(client_for, loaded, people):
    response = client_for(people["tax_member"]).get(url("data", loaded), {"legal_id__prefix": "11"})
    assert response.status_code == 422 and "only equality" in response.content.decode()


def test_upload_map_fix_and_apply(client_for, tax_dataset, people):
    client = client_for(people["tax_member"])
    content = "code,名称,registered\n91350100M000100Y43,甲公司,2015-03-02\n91350100M000100Y44,乙公司,2015-13-01\n"
    response = client.post(url("import", tax_dataset), {"file": SimpleUploadedFile("a.csv", content.encode())})
    job = ImportJob.objects.get()
    assert response.status_code == 302 and job.upload
    page = client.get(url("import_job", tax_dataset, job.pk)).content.decode()
    assert "(not imported)" in page  # "code" matches no field yet
    mapping = {"map-0": "credit_code", "map-1": "name", "map-2": "registered"}
    page = client.post(url("import_job", tax_dataset, job.pk), mapping | {"action": "check", "mode": "all"})
    assert "1 ready, 1 with problems" in page.content.decode()
    refused = client.post(url("import_job", tax_dataset, job.pk), mapping | {"action": "apply", "mode": "all"})
    assert refused.status_code == 422 and Record.objects.count() == 0
    applied = client.post(url("import_job", tax_dataset, job.pk), mapping | {"action": "apply", "mode": "valid"})
    assert applied.status_code == 302 and Record.objects.count() == 1
    job.refresh_from_db()
    assert job.status == "applied" and job.upload == ""
    report = client.get(url("import_errors", tax_dataset, job.pk)).content.decode("utf-8-sig")
    assert "credit_code" in report


def test_an_export_read_back_in_leaves_its_record_ids_out_without_a_warning(client_for, loaded, people):
    client = client_for(people["tax_member"])
    export = client.get(url("data", loaded).replace("/resources/", "/api/v1/datasets/").replace("/data/", "/records"),
                        {"format": "csv"})  # fmt: skip
    assert export.status_code == 200, export.content[:300]
    content = export.content.decode("utf-8-sig")
    assert content.startswith("_id,")
    client.post(url("import", loaded), {"file": SimpleUploadedFile("export.csv", content.encode())})
    job = ImportJob.objects.get()
    page = client.get(url("import_job", loaded, job.pk)).content.decode()
    assert "sh-record-ids" in page and "sh-unmapped" not in page
    assert job.mapping["_id"] == "" and all(target for column, target in job.mapping.items() if column != "_id")
    before = Record.objects.count()
    columns = content.splitlines()[0].split(",")
    mapping = {f"map-{i}": job.mapping[column] for i, column in enumerate(columns)}
    applied = client.post(url("import_job", loaded, job.pk), {"action": "apply", "mode": "all"} | mapping)
    assert applied.status_code == 302 and Record.objects.count() == before
    job.refresh_from_db()
    assert job.counts["unchanged"] == before, job.counts


def test_outsider_cannot_import(client_for, loaded, people, org_units):
    grant(loaded, department=org_units["social"])
    assert client_for(people["social_member"]).get(url("import", loaded)).status_code == 403


def test_schema_editor_saves_a_new_version(client_for, tax_dataset, people):
    client = client_for(people["tax_steward"])
    page = client.get(url("schema", tax_dataset))
    assert page.status_code == 200 and "credit_code" in page.content.decode()
    data = {
        "rows": "2", "f0-name": "credit_code", "f0-type": "credit_code", "f0-sensitivity": "public",
        "f1-name": "name", "f1-type": "text", "f1-sensitivity": "internal", "key_fields": ["credit_code"],
    }  # fmt: skip
    response = client.post(url("schema", tax_dataset), data)
    assert response.status_code == 302
    tax_dataset.dataset.refresh_from_db()
    assert [f.name for f in tax_dataset.dataset.fields.all()] == ["credit_code", "name"]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_pages_render_in_both_languages(client_for, loaded, people, language):
    client = client_for(people["tax_member"])
    client.cookies["django_language"] = language
    for name in ("data", "schema", "import"):
        assert client.get(url(name, loaded), HTTP_ACCEPT_LANGUAGE=language).status_code == 200
