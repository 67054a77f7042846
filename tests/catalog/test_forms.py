"""Publishing, editing, sharing and status changes through the pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sharehub.catalog.models import Project, Resource
from sharehub.events.models import Event
from tests import factories
from tests.catalog.helpers import counts

CREATE = reverse("catalog:create")


def form_data(department, **overrides):
    data = {
        "owner_department": department.pk,
        "kind": "document",
        "title": "2025年度纳税信用评价结果",
        "summary": "年度评价结果",
        "body": "## 说明\n\n正文",
        "tags": "税务，信用, 2025",
        "update_frequency": "yearly",
        "sharing_type": "open",
        "scope": "all",
        "action": "draft",
    }
    data.update(overrides)
    return data


def test_create_page_offers_only_creatable_departments(client_for, people, org_units):
    response = client_for(people["tax_member"]).get(CREATE)
    html = response.content.decode()
    assert response.status_code == 200
    options = response.context["form"].fields["owner_department"].queryset
    assert list(options) == [org_units["tax"]]
    assert 'value="draft"' in html
    assert 'value="publish"' not in html  # a plain member cannot publish
    steward_html = client_for(people["tax_steward"]).get(CREATE).content.decode()
    assert 'value="publish"' in steward_html


def test_person_without_department_cannot_create(client_for, people):
    response = client_for(people["auditor"]).get(CREATE)
    assert response.status_code == 403


def test_member_saves_a_draft(client_for, people, org_units):
    response = client_for(people["tax_member"]).post(CREATE, form_data(org_units["tax"]))
    assert response.status_code == 302
    resource = Resource.objects.get(title="2025年度纳税信用评价结果")
    assert response["Location"] == reverse("catalog:detail", args=[resource.code])
    assert resource.status == Resource.Status.DRAFT
    assert sorted(t.name for t in resource.tags.all()) == ["2025", "信用", "税务"]
    assert resource.steward == people["tax_steward"]  # the department's steward by default
    assert Event.objects.filter(action="resource.created", target_id=str(resource.pk)).exists()


def test_steward_publishes_with_a_chosen_scope(client_for, people, org_units):
    data = form_data(
        org_units["tax"],
        action="publish",
        sharing_type="conditional",
        conditions="仅用于核验",
        scope="chosen",
        scope_departments=[org_units["hr"].pk],
    )
    response = client_for(people["tax_steward"]).post(CREATE, data)
    assert response.status_code == 302
    resource = Resource.objects.get(title=data["title"])
    assert resource.status == Resource.Status.PUBLISHED
    assert resource.sharing_type == "conditional" and resource.conditions == "仅用于核验"
    assert not resource.scope_all
    assert list(resource.scope_departments.all()) == [org_units["hr"]]


def test_member_cannot_publish_and_nothing_is_written(client_for, people, org_units):
    client = client_for(people["tax_member"])  # signing in is an event too: count after it
    before = counts()
    response = client.post(CREATE, form_data(org_units["tax"], action="publish"))
    assert response.status_code == 403
    assert "Only stewards and heads of 税务局" in response.content.decode()
    assert counts() == before


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"title": ""}, "title", None),
        ({"sharing_type": "conditional", "conditions": ""}, "conditions", "must state its sharing conditions"),
        ({"sharing_type": "restricted"}, "restriction_basis", "legal or policy basis"),
        ({"kind": "link", "link_url": "javascript:alert(1)"}, "link_url", "valid http or https address"),
        ({"kind": "link", "link_url": ""}, "link_url", "A link needs the address"),
        ({"kind": "progress"}, "project", "A progress update belongs to a project."),
        ({"scope": "chosen"}, "scope_departments", "Choose at least one department"),
        ({"kind": "dataset", "dataset_fields": "name, text, top-secret"}, "dataset_fields", "sensitivity must be"),
        ({"tags": ",".join(f"t{n}" for n in range(30))}, "tags", "At most 20 tags."),
    ],
)
def test_validation_errors_are_shown_and_nothing_is_written(client_for, people, org_units, overrides, field, message):
    client = client_for(people["tax_steward"])
    before = counts()
    response = client.post(CREATE, form_data(org_units["tax"], **overrides))
    assert response.status_code == 422
    form = response.context["form"]
    assert field in form.errors
    assert message is None or message in " ".join(form.errors[field])
    html = response.content.decode()
    assert "invalid-feedback" in html and "is-invalid" in html
    assert counts() == before
    assert 'value="2025年度纳税信用评价结果"' in html or overrides.get("title") == ""  # input kept


def test_cannot_create_in_another_department(client_for, people, org_units):
    client = client_for(people["tax_member"])
    before = counts()
    response = client.post(CREATE, form_data(org_units["health"]))
    assert response.status_code == 422
    assert "owner_department" in response.context["form"].errors
    assert counts() == before


def test_dataset_fields_are_parsed_one_per_line(client_for, people, org_units):
    data = form_data(
        org_units["tax"],
        kind="dataset",
        dataset_fields="taxpayer_id, text, sensitive, 纳税人识别号\n\namount, decimal, internal, 金额, 含税",
    )
    assert client_for(people["tax_member"]).post(CREATE, data).status_code == 302
    resource = Resource.objects.get(title=data["title"])
    shown = ("name", "type", "description", "sensitivity", "masking")
    assert [{k: f[k] for k in shown} for f in resource.dataset_fields] == [
        {"name": "taxpayer_id", "type": "text", "description": "纳税人识别号", "sensitivity": "sensitive",
         "masking": "partial"},
        {"name": "amount", "type": "decimal", "description": "金额, 含税", "sensitivity": "internal",
         "masking": "none"},
    ]  # fmt: skip
    html = client_for(people["tax_member"]).get(reverse("catalog:detail", args=[resource.code])).content.decode()
    assert "taxpayer_id" in html and "纳税人识别号" in html


def test_progress_update_with_a_project(client_for, people, org_units):
    project = Project.objects.create(department=org_units["tax"], name="金税四期")
    data = form_data(org_units["tax"], kind="progress", project=project.pk)
    assert client_for(people["tax_member"]).post(CREATE, data).status_code == 302
    assert Resource.objects.get(title=data["title"]).project == project


def test_edit_saves_a_new_version_with_the_note(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="旧标题", tags=["甲"])
    url = reverse("catalog:edit", args=[resource.code])
    client = client_for(people["tax_member"])
    page = client.get(url)
    assert page.status_code == 200
    assert 'name="sharing_type"' not in page.content.decode()  # members do not change sharing
    response = client.post(
        url, {"title": "新标题", "body": "新正文", "tags": "甲, 乙", "update_frequency": "monthly", "note": "更新口径"}
    )
    assert response.status_code == 302
    resource.refresh_from_db()
    assert resource.title == "新标题" and resource.version == 2
    assert resource.versions.get(number=2).note == "更新口径"
    assert resource.sharing_type == "open"


def test_edit_ignores_sharing_fields_from_a_member(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="标题")
    client_for(people["tax_member"]).post(
        reverse("catalog:edit", args=[resource.code]),
        {"title": "标题", "update_frequency": "monthly", "sharing_type": "restricted", "restriction_basis": "x"},
    )
    resource.refresh_from_db()
    assert resource.sharing_type == "open"


def test_steward_edit_form_has_sharing_fields(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    html = client_for(people["tax_steward"]).get(reverse("catalog:edit", args=[resource.code])).content.decode()
    assert 'name="sharing_type"' in html


def test_edit_validation_error_writes_nothing(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], title="标题")
    client = client_for(people["tax_member"])
    before = counts()
    response = client.post(reverse("catalog:edit", args=[resource.code]), {"title": "", "update_frequency": "monthly"})
    assert response.status_code == 422
    assert "title" in response.context["form"].errors
    assert counts() == before
    resource.refresh_from_db()
    assert resource.title == "标题" and resource.version == 1


def test_edit_by_someone_who_sees_but_may_not_edit_is_403(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    response = client_for(people["health_member"]).get(reverse("catalog:edit", args=[resource.code]))
    assert response.status_code == 403
    assert "Only members of 税务局 edit this resource." in response.content.decode()
    assert response.templates[0].name == "catalog/forbidden.html"
    post = client_for(people["health_member"]).post(reverse("catalog:edit", args=[resource.code]), {"title": "x"})
    assert post.status_code == 403


def test_sharing_page(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"])
    url = reverse("catalog:sharing", args=[resource.code])
    assert client_for(people["tax_member"]).get(url).status_code == 403
    client = client_for(people["tax_steward"])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"sharing_type": "restricted", "scope": "all", "restriction_basis": ""})
    assert bad.status_code == 422
    assert "restriction_basis" in bad.context["form"].errors
    ok = client.post(url, {"sharing_type": "restricted", "scope": "all", "restriction_basis": "《保密法》"})
    assert ok.status_code == 302
    resource.refresh_from_db()
    assert resource.sharing_type == "restricted" and resource.restriction_basis == "《保密法》"
    assert Event.objects.filter(action="resource.sharing_changed", target_id=str(resource.pk)).count() == 1


def test_transitions(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], publish=False)
    client = client_for(people["tax_steward"])

    def post(verb):
        return client.post(reverse("catalog:transition", args=[resource.code, verb]), follow=True)

    response = post("publish")
    assert response.redirect_chain[-1][0] == reverse("catalog:detail", args=[resource.code])
    resource.refresh_from_db()
    assert resource.status == "published"
    post("archive")
    resource.refresh_from_db()
    assert resource.status == "archived"
    again = post("archive")
    assert "cannot be changed that way" in again.content.decode()
    post("restore")
    resource.refresh_from_db()
    assert resource.status == "published"


def test_transition_needs_post_and_a_manager(client_for, people, org_units):
    resource = factories.resource(org_units["tax"], by=people["tax_steward"], publish=False)
    url = reverse("catalog:transition", args=[resource.code, "publish"])
    assert client_for(people["tax_steward"]).get(url).status_code == 405
    response = client_for(people["tax_member"]).post(url)
    assert response.status_code == 403
    resource.refresh_from_db()
    assert resource.status == "draft"


def test_a_scope_department_whose_id_equals_the_resources_id_is_kept(org_units, people):
    """Regression: the self-relation guard for `related` once dropped a scope department whose
    primary key happened to equal the resource's own, so the resource vanished for that department."""
    from sharehub.catalog import services
    from sharehub.catalog.models import Resource
    from sharehub.org.models import Department

    steward = people["tax_steward"]
    resource = factories.resource(org_units["tax"], by=steward)
    twin = Department.objects.filter(pk=resource.pk).first()
    if twin is None:  # made directly with the colliding id; nothing refers to it yet
        twin = Department.objects.create(id=resource.pk, name="同号部门", code="TWIN", path=f"/{resource.pk}/")
    services.change_sharing(steward, resource, scope_all=False, scope_departments=[twin])
    assert list(Resource.objects.get(pk=resource.pk).scope_departments.all()) == [twin]
