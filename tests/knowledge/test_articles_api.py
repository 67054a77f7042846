"""The articles API: list (policy-filtered, no bodies), get (body only if readable), create, update, move,
citations; hostile input gets 4xx with the one error shape; statement counts do not grow with the page."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from sharehub.knowledge import articles
from sharehub.knowledge.models import Article, Citation
from tests import factories
from tests.api.conftest import Api

pytestmark = pytest.mark.django_db


@pytest.fixture
def kb(people, org_units):
    s = people["tax_steward"]
    tax = org_units["tax"]
    root = articles.create_article(s, department=tax, title="总览", body="root-body", publish=True)
    child = articles.create_article(s, department=tax, title="子页", parent=root, publish=True)
    restricted = articles.create_article(
        s, department=tax, title="限制", body="r-body", publish=True, sharing_type="restricted", restriction_basis="法"
    )
    conditional = articles.create_article(
        s, department=tax, title="条件", body="c-body", publish=True, sharing_type="conditional", conditions="核验"
    )
    draft = articles.create_article(s, department=tax, title="草稿")
    health = articles.create_article(people["health_member"], department=org_units["health"], title="卫健页")
    return {
        "root": root,
        "child": child,
        "restricted": restricted,
        "conditional": conditional,
        "draft": draft,
        "health": health,
    }


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


def test_list_is_filtered_by_policy(people, kb, org_units):
    outsider = Api(people["health_member"])
    codes = {a["code"] for a in outsider.get("/articles").json()["items"]}
    assert codes == {kb[k].resource.code for k in ("root", "child", "conditional", "health")}
    own = {a["code"] for a in Api(people["tax_member"]).get("/articles").json()["items"]}
    assert kb["restricted"].resource.code in own and kb["draft"].resource.code in own
    assert kb["health"].resource.code not in own  # a draft of another department
    items = outsider.get("/articles", {"department": org_units["tax"].pk, "parent": kb["root"].pk}).json()["items"]
    assert [a["code"] for a in items] == [kb["child"].resource.code]
    top = outsider.get("/articles", {"department": org_units["tax"].pk, "top": "true"}).json()["items"]
    assert kb["child"].resource.code not in {a["code"] for a in top}
    assert all(a["body"] is None for a in outsider.get("/articles").json()["items"])


def test_pagination_cursor(people, kb):
    api = Api(people["tax_member"])
    first = api.get("/articles", {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = api.get("/articles", {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert not {a["id"] for a in first["items"]} & {a["id"] for a in second["items"]}
    for bad in ("x", "-1", "9" * 40, "１"):
        assert api.get("/articles", {"cursor": bad}).status_code == 422
    assert api.get("/articles", {"limit": 0}).status_code == 422
    assert api.get("/articles", {"department": "abc"}).status_code == 422


def test_get_one_body_only_if_readable_and_404_if_invisible(people, kb):
    outsider = Api(people["health_member"])
    root = outsider.get(f"/articles/{kb['root'].resource.code}").json()
    assert root["body"] == "root-body" and root["readable"]
    conditional = outsider.get(f"/articles/{kb['conditional'].resource.code}").json()
    assert conditional["body"] is None and not conditional["readable"]
    for key in ("restricted", "draft"):
        code = kb[key].resource.code
        assert outsider.get(f"/articles/{code}").status_code == 404
        assert outsider.patch(f"/articles/{code}", {"title": "x"}).status_code == 404
        assert outsider.post(f"/articles/{code}/move", {"parent": None}).status_code == 404
        assert outsider.post(f"/articles/{code}/publish").status_code == 404
        assert outsider.get(f"/articles/{code}/citations").status_code == 404
        assert outsider._send("put", f"/articles/{code}/citations", {"resources": []}).status_code == 404
    assert outsider.get("/articles/NOPE").status_code == 404
    document = factories.resource(kb["root"].resource.owner_department)
    assert outsider.get(f"/articles/{document.code}").status_code == 404  # not an article
    assert Api().get("/articles").status_code == 401


def test_create_update_move_publish(people, org_units, kb):
    steward = Api(people["tax_steward"])
    response = steward.post(
        "/articles",
        {"department": org_units["tax"].pk, "title": "新文章", "template": "lessons", "parent": kb["root"].pk},
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["status"] == "draft" and data["parent"] == kb["root"].pk and data["template"] == "lessons"
    assert data["body"]  # the template's skeleton
    code = data["code"]
    response = steward.patch(f"/articles/{code}", {"body": "改过", "note": "n"})
    assert response.status_code == 200 and response.json()["version"] == 2
    response = steward.post(f"/articles/{code}/move", {"parent": None, "position": 0})
    assert response.status_code == 200
    assert response.json()["parent"] is None and response.json()["position"] == 0
    assert steward.post(f"/articles/{code}/publish").json()["status"] == "published"
    member = Api(people["tax_member"])
    assert member.post(f"/articles/{kb['draft'].resource.code}/publish").status_code == 403
    health = Api(people["health_member"])
    assert health.patch(f"/articles/{kb['root'].resource.code}", {"title": "x"}).status_code == 403


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"title": "a\u0000b"}, "title"),
        ({"title": "t", "template": "novel"}, "template"),
        ({"title": "t", "parent": 999999}, "parent"),
        ({"title": "t", "parent": "1"}, "parent"),
        ({"title": "t", "sharing_type": "conditional"}, "conditions"),
        ({"title": "t", "citations": [999999]}, "citations"),
        ({"title": "t", "citations": [True]}, "citations"),
        ({"title": "t", "body": "x" * 500_001}, "body"),
        ({"title": "t", "tags": ["x" * 51]}, "tags"),
    ],
)
def test_create_bad_input(people, org_units, payload, field):
    response = Api(people["tax_member"]).post("/articles", {"department": org_units["tax"].pk, **payload})
    assert response.status_code == 422, response.content
    assert any(field in key for key in _error(response)["fields"]), response.json()
    assert not Article.objects.exists()


def test_create_elsewhere_and_catalog_kind_refused(people, org_units):
    api = Api(people["tax_member"])
    assert api.post("/articles", {"department": org_units["health"].pk, "title": "t"}).status_code == 403
    assert api.post("/articles", {"department": 999999, "title": "t"}).status_code == 422
    response = api.post("/resources", {"owner_department": org_units["tax"].pk, "kind": "article", "title": "t"})
    assert response.status_code == 422 and "kind" in _error(response)["fields"]
    assert api.post("/articles", raw=b"{not json").status_code in (400, 422)


def test_move_refuses_cycles_and_other_spaces(people, kb):
    api = Api(people["tax_steward"])
    root = kb["root"].resource.code
    response = api.post(f"/articles/{root}/move", {"parent": kb["child"].pk})
    assert response.status_code == 422 and "parent" in _error(response)["fields"]
    response = api.post(f"/articles/{root}/move", {"parent": kb["health"].pk})
    assert response.status_code == 422
    assert api.post(f"/articles/{root}/move", {"position": -1}).status_code == 422
    assert api.post(f"/articles/{root}/move", {"position": "1"}).status_code == 422


def test_citations_api(people, kb, org_units):
    cited = factories.resource(org_units["health"], title="数据集", kind="dataset")
    hidden = factories.resource(org_units["health"], sharing_type="restricted")
    api = Api(people["tax_steward"])
    code = kb["root"].resource.code
    response = api._send("put", f"/articles/{code}/citations", {"resources": [cited.pk]})
    assert response.status_code == 200 and [r["code"] for r in response.json()] == [cited.code]
    response = api._send("put", f"/articles/{code}/citations", {"resources": [hidden.pk]})
    assert response.status_code == 422
    assert Citation.objects.filter(article=kb["root"]).count() == 1
    by = Api(people["health_member"]).get(f"/articles/cited-by/{cited.code}").json()
    assert [a["code"] for a in by] == [code]
    assert Api(people["health_member"]).get(f"/articles/{code}/citations").json()[0]["code"] == cited.code
    # a citing article the reader may not see is not listed
    articles.set_citations(people["tax_steward"], kb["restricted"], [cited.pk])
    by = Api(people["health_member"]).get(f"/articles/cited-by/{cited.code}").json()
    assert [a["code"] for a in by] == [code]
    assert Api(people["tax_member"]).get(f"/articles/cited-by/{hidden.code}").status_code == 404


# --- statement counts: the same for 1 item as for many -----------------------------------------------------


def _statements(client, url) -> int:
    client.get(url)  # warm per-process caches
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


PINNED = {"home": 9, "space": 6, "api list": 6}


def test_statement_counts_do_not_grow(people, org_units, client_for):
    steward = people["tax_steward"]
    tax = org_units["tax"]
    root = articles.create_article(steward, department=tax, title="根", publish=True)
    articles.create_article(
        steward, department=tax, title="条件", publish=True, sharing_type="conditional", conditions="核验"
    )
    reader = people["health_member"]
    pages = client_for(reader)
    api = Api(reader)
    urls = {
        "home": (pages, reverse("knowledge:home")),
        "space": (pages, reverse("knowledge:space", args=[tax.pk])),
        "api list": (api.client, "/api/v1/articles?limit=200"),
    }
    small = {name: _statements(client, url) for name, (client, url) in urls.items()}
    parent = root
    for n in range(30):
        parent = articles.create_article(
            steward,
            department=tax,
            title=f"页{n}",
            parent=parent if n % 3 else root,
            publish=True,
            sharing_type="conditional" if n % 2 else "open",
            conditions="核验",
            scope_all=n % 4 != 0,
            scope_departments=[org_units["health"]] if n % 4 == 0 else [],
        )
    large = {name: _statements(client, url) for name, (client, url) in urls.items()}
    assert small == large
    assert large == PINNED, large
