"""The organization's dictionary: a word an admin adds is kept whole by segmentation, the resources
that mention it are found by it, and adding or removing it is an event. Through the API and the
Django admin; only organization admins change it."""

from __future__ import annotations

import pytest

from sharehub.events.models import Event
from sharehub.search import segment
from sharehub.search.models import SearchTerm
from sharehub.search.queries import search
from tests import factories
from tests.api.conftest import Api, error_of

pytestmark = pytest.mark.django_db

WORD = "智税通"  # an invented system name, in no dictionary


@pytest.fixture
def mentions(org_units, indexed):
    """Two resources that mention the word where jieba would cut it apart, and one that does not."""
    tax = org_units["tax"]
    made = {
        "guide": factories.resource(tax, title="请用智税通报送季度报表", summary="操作指南"),
        "body": factories.resource(tax, title="新系统说明", summary="上线安排", body="智税通是新系统，今年上线"),
        "other": factories.resource(tax, title="季度报表口径", summary="智税改革通报"),
    }
    indexed()
    return made


def found(user, text: str) -> list[str]:
    return sorted(h.resource.title for h in search(user, text).hits)


def test_an_added_word_is_kept_whole_and_finds_what_mentions_it(mentions, people, indexed):
    reader = people["health_member"]
    assert WORD not in segment.segmenter().words("请用智税通报送季度报表")
    assert found(reader, WORD) == []

    response = Api(people["admin"]).post("/search/terms", {"text": WORD, "note": "电子税务局的新系统"})
    assert response.status_code == 201, response.content
    term = response.json()
    assert (term["text"], term["note"]) == (WORD, "电子税务局的新系统")
    assert term["created_by"]["username"] == "admin" and term["created_at"]
    [event] = Event.objects.filter(action="search.term_added")
    assert event.details == {"text": WORD} and event.actor_id == people["admin"].pk

    indexed()  # the log reader reloads the dictionary and reindexes what mentions the word
    assert WORD in segment.segmenter().words("请用智税通报送季度报表")
    assert segment.segmenter().words("智税通是新系统")[0] == WORD
    assert found(reader, WORD) == ["新系统说明", "请用智税通报送季度报表"]
    assert found(reader, f'"{WORD}"') == ["新系统说明", "请用智税通报送季度报表"]
    # A text that only has the characters next to each other, in other words, is not a mention.
    assert "季度报表口径" not in found(reader, WORD)
    [hit] = [h for h in search(reader, WORD).hits if h.resource == mentions["guide"]]
    assert f"<mark>{WORD}</mark>" in hit.title_html


def test_removing_a_word_is_an_event_and_undoes_it(mentions, people, indexed):
    admin = Api(people["admin"])
    term_id = admin.post("/search/terms", {"text": WORD}).json()["id"]
    indexed()
    assert found(people["tax_member"], WORD) == ["新系统说明", "请用智税通报送季度报表"]

    assert admin.delete(f"/search/terms/{term_id}").status_code == 204
    assert not SearchTerm.objects.filter(pk=term_id).exists()
    [event] = Event.objects.filter(action="search.term_removed")
    assert event.details == {"text": WORD} and event.actor_id == people["admin"].pk
    assert event.target_id == str(term_id)

    indexed()
    assert WORD not in segment.segmenter().words("请用智税通报送季度报表")
    assert "请用智税通报送季度报表" not in found(people["tax_member"], WORD)


def test_everyone_signed_in_lists_the_dictionary(people):
    factories_term = SearchTerm.objects.create(text="营业执照", note="证照名", created_by=people["admin"])
    for who in ("tax_member", "auditor", "admin"):
        response = Api(people[who]).get("/search/terms")
        assert response.status_code == 200
        assert [(t["id"], t["text"], t["note"]) for t in response.json()] == [(factories_term.pk, "营业执照", "证照名")]


@pytest.mark.parametrize("who", ["tax_member", "tax_steward", "hr_head", "auditor"])
def test_only_org_admins_add_or_remove_words(people, who):
    term = SearchTerm.objects.create(text="营业执照")
    caller = Api(people[who])
    added = caller.post("/search/terms", {"text": WORD})
    assert added.status_code == 403 and error_of(added)["code"] == "forbidden"
    removed = caller.delete(f"/search/terms/{term.pk}")
    assert removed.status_code == 403
    assert list(SearchTerm.objects.values_list("text", flat=True)) == ["营业执照"]
    assert not Event.objects.filter(action__startswith="search.term_").exists()


@pytest.mark.parametrize(
    ("payload", "field", "status"),
    [
        ({}, "text", 422),
        ({"text": "  "}, "text", 422),
        ({"text": "智税 通"}, "text", 422),
        ({"text": "字" * 41}, "text", 422),
        ({"text": WORD, "note": "x" * 201}, "note", 422),
        ({"text": WORD, "colour": "red"}, "colour", 422),
        ({"text": "营业执照"}, "text", 409),
    ],
)
def test_bad_words_are_refused_naming_the_field(people, payload, field, status):
    SearchTerm.objects.create(text="营业执照")
    response = Api(people["admin"]).post("/search/terms", payload)
    assert response.status_code == status, response.content
    assert field in error_of(response)["fields"]


def test_removing_a_missing_word_is_404(people):
    response = Api(people["admin"]).delete("/search/terms/424242")
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


# --- the Django admin


def _superuser(user):
    """Django's admin is for organization admins who are superusers."""
    from sharehub.org.services import set_superuser

    return set_superuser(None, user, True)


def test_admin_lists_adds_and_removes_through_the_services(people, client_for, indexed):
    client = client_for(_superuser(people["admin"]))
    assert client.get("/admin/search/searchterm/").status_code == 200
    response = client.post("/admin/search/searchterm/add/", {"text": WORD, "note": "新系统"})
    assert response.status_code == 302, response.content.decode()[:2000]
    term = SearchTerm.objects.get(text=WORD)
    assert term.created_by == people["admin"] and term.note == "新系统"
    assert Event.objects.filter(action="search.term_added", details__text=WORD).count() == 1

    listing = client.get("/admin/search/searchterm/").content.decode()
    assert WORD in listing and "新系统" in listing and "admin" in listing

    page = client.get(f"/admin/search/searchterm/{term.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content  # not edited in place

    response = client.post(f"/admin/search/searchterm/{term.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not SearchTerm.objects.exists()
    assert Event.objects.filter(action="search.term_removed", details__text=WORD).count() == 1


def test_admin_bulk_delete_records_each_removal(people, client_for):
    terms = [SearchTerm.objects.create(text=t) for t in ("营业执照", "社保卡", WORD)]
    client = client_for(_superuser(people["admin"]))
    response = client.post(
        "/admin/search/searchterm/",
        {"action": "delete_selected", "_selected_action": [t.pk for t in terms[:2]], "post": "yes"},
    )
    assert response.status_code == 302
    assert list(SearchTerm.objects.values_list("text", flat=True)) == [WORD]
    removed = Event.objects.filter(action="search.term_removed").values_list("details__text", flat=True)
    assert sorted(removed) == sorted(["营业执照", "社保卡"])


def test_admin_form_shows_what_is_wrong(people, client_for):
    SearchTerm.objects.create(text="营业执照")
    client = client_for(_superuser(people["admin"]))
    for text in ("智税 通", "营业执照", ""):
        response = client.post("/admin/search/searchterm/add/", {"text": text})
        assert response.status_code == 200, text
        assert b"errorlist" in response.content
    assert SearchTerm.objects.count() == 1
    assert not Event.objects.filter(action="search.term_added").exists()


@pytest.mark.parametrize("who", ["tax_member", "auditor"])
def test_admin_is_closed_to_others(people, client_for, who):
    client = client_for(people[who])
    assert client.get("/admin/search/searchterm/").status_code == 302
    assert client.post("/admin/search/searchterm/add/", {"text": WORD}).status_code == 302
    assert not SearchTerm.objects.exists()
