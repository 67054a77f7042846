"""The masking matrix: every kind of reader × what their grant names × sensitivity × masking rule × every route
that gives records out. The expected view of each cell comes from `world.oracle` (the rules of
`policy.fields`' docstring); the world is built once for the module, in a transaction rolled back at its end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone

from sharehub.access.models import Grant
from sharehub.events import consumers
from sharehub.exchange import crypto, schema, services
from sharehub.org import services as org
from sharehub.search import segment
from tests import factories
from tests.exchange.world import (
    FULL,
    HEX,
    HIDDEN,
    MASKED,
    RULES,
    SENSITIVITIES,
    body_text,
    oracle,
    rows_of_csv,
    rows_of_json,
    rows_of_xlsx,
)

API = "/api/v1"
FIELDS = [{"name": "code", "type": "text", "sensitivity": "public", "masking": "none", "required": True}] + [
    {"name": f"{s}_{r}", "type": "text", "sensitivity": s, "masking": r, "label_zh": f"字段{s}{r}"}
    for s in SENSITIVITIES
    for r in RULES
]
NAMED_BY_DEPARTMENT_GRANT = {"public_hash", "internal_partial", "sensitive_hidden", "secret_none", "secret_hash"}
NAMED_BY_PERSONAL_GRANT = {"secret_partial", "sensitive_hash", "internal_hidden"}


def value(row: str, field: str) -> str:
    return f"{row}-{field}-值{len(field) * 7919 % 1000:03d}" if field != "code" else f"K-{row}"


def plain_row(row: str) -> dict:
    return {f["name"]: value(row, f["name"]) for f in FIELDS}


# (reader, what the oracle needs): sees_all, named fields, a grant naming no fields, refused on a conditional set
READERS = {
    "owner_member": {"sees_all": True},
    "owner_steward": {"sees_all": True},
    "admin": {"sees_all": True},
    "auditor": {"grant": False},
    "other_department": {"grant": False},
    "grant_fields": {"named": NAMED_BY_DEPARTMENT_GRANT},
    "grant_whole": {"whole": True},
    "personal_grant": {"named": NAMED_BY_PERSONAL_GRANT},
    "expired_grant": {"grant": False},
    "revoked_grant": {"grant": False},
    "service_token": {"named": NAMED_BY_DEPARTMENT_GRANT},
}
ROUTES = ("json", "by_key", "changes", "csv", "xlsx", "page", "search_api", "search_page")


def expected_views(reader: str, sharing: str) -> dict[str, str] | None:
    """field -> view, or None when the reader may not read the dataset's records at all."""
    spec = READERS[reader]
    if sharing == "conditional" and spec.get("grant") is False:
        return None  # no active grant: the entry is visible, its records are not
    sees_all, named, whole = spec.get("sees_all", False), spec.get("named", set()), spec.get("whole", False)
    return {f["name"]: oracle(sees_all=sees_all, named=named, whole=whole, field=f) for f in FIELDS}


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """Overrides the package's: the module's world is encrypted with the run's keys from the environment."""
    monkeypatch.setenv("SHAREHUB_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


def _grant(resource, *, department=None, user=None, fields=(), ended=False, revoked=False):
    now = timezone.now()
    return Grant.objects.create(
        resource=resource,
        grantee_department=department,
        grantee_user=user,
        purpose="稽核比对",
        fields=sorted(fields),
        valid_from=now - timedelta(days=10),
        valid_until=now - timedelta(days=1) if ended else now + timedelta(days=30),
        revoked_at=now - timedelta(hours=1) if revoked else None,
    )


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), transaction.atomic():
        crypto.reset_keyring()
        tax = factories.department("税务局", "SWJ")
        departments = {name: factories.department(f"部门{name}", f"D{name.upper()}") for name in
                       ("fields", "whole", "personal", "expired", "revoked", "other")}  # fmt: skip
        steward = factories.member(tax, "steward", username="m_steward")
        admin = factories.person("m_admin", admin=True)
        people = {
            "owner_member": factories.member(tax, "member", username="m_member"),
            "owner_steward": steward,
            "admin": admin,
            "auditor": factories.person("m_auditor", auditor=True),
            "other_department": factories.member(departments["other"], username="m_other"),
            "grant_fields": factories.member(departments["fields"], username="m_fields"),
            "grant_whole": factories.member(departments["whole"], username="m_whole"),
            "personal_grant": factories.member(departments["personal"], username="m_personal"),
            "expired_grant": factories.member(departments["expired"], username="m_expired"),
            "revoked_grant": factories.member(departments["revoked"], username="m_revoked"),
        }
        account = org.create_service_account(admin, department=departments["fields"], username="m_erp")
        _token, raw_token = org.issue_token(admin, account, "erp")
        datasets, plains = {}, {}
        for sharing in ("conditional", "open"):
            resource = factories.resource(
                tax, by=steward, kind="dataset", sharing_type=sharing, title=f"矩阵数据集{sharing}"
            )
            schema.change_dataset(steward, resource, FIELDS, key_fields=["code"])
            rows = [plain_row(f"R{i}") for i in range(3)]
            services.upsert(people["owner_member"], resource, rows)
            updated = plain_row("R0") | {f["name"]: value("R0b", f["name"]) for f in FIELDS if f["name"] != "code"}
            services.upsert(people["owner_member"], resource, [updated])  # the feed holds R0's old values too
            _grant(resource, department=departments["fields"], fields=NAMED_BY_DEPARTMENT_GRANT)
            _grant(resource, department=departments["whole"])
            _grant(resource, user=people["personal_grant"], fields=NAMED_BY_PERSONAL_GRANT)
            _grant(resource, department=departments["expired"], ended=True)
            _grant(resource, department=departments["revoked"], revoked=True)
            datasets[sharing] = resource
            plains[sharing] = {"current": [updated, *rows[1:]], "all": [*rows, updated]}
        segment.reset()
        consumers.run_pending()  # the search index, as the after-commit hook brings it up to date
        yield {"people": people, "token": raw_token, "datasets": datasets, "plains": plains}
        transaction.set_rollback(True)
    crypto.reset_keyring()


def client_for(world, reader: str):
    client = Client()
    if reader == "service_token":
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {world['token']}"
    else:
        client.force_login(world["people"][reader])
    return client


def fetch(world, client, route: str, resource) -> list:
    """The route's responses for this dataset (several for the by-key lookup)."""
    base = f"{API}/datasets/{resource.pk}"
    if route == "json":
        return [client.get(f"{base}/records", {"limit": 100})]
    if route == "by_key":
        return [client.get(f"{base}/record", {"code": f"K-R{i}"}) for i in range(3)]
    if route == "changes":
        return [client.get(f"{base}/changes", {"since": 0, "limit": 100})]
    if route in ("csv", "xlsx"):
        return [client.get(f"{base}/records", {"format": route})]
    if route == "page":
        return [client.get(f"/resources/{resource.code}/data/")]
    if route == "search_api":
        return [client.get(f"{API}/search", {"q": resource.title})]
    return [client.get("/search/", {"q": resource.title})]


def check_row(got: dict, plain: dict, views: dict[str, str], where: str) -> list[str]:
    problems = []
    for name, view in views.items():
        shown = got.get(name, HIDDEN)
        if view == FULL and shown != plain[name]:
            problems.append(f"{where} {name}: expected the value in full, got {shown!r}")
        elif view == HIDDEN and name in got:
            problems.append(f"{where} {name}: expected left out, got {shown!r}")
        elif view == MASKED:
            rule = name.split("_", 1)[1]
            ok = (HEX.match(str(shown)) is not None) if rule == "hash" else shown == plain[name][0] + "***"
            if not ok:
                problems.append(f"{where} {name}: expected masked by {rule}, got {shown!r}")
    return problems


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("sharing", ["conditional", "open"])
@pytest.mark.parametrize("reader", list(READERS))
def test_matrix(world, db, reader, sharing, route):
    if reader == "service_token" and route in ("page", "search_page"):
        pytest.skip("a service account signs in with tokens only: it has no pages")
    resource = world["datasets"][sharing]
    views = expected_views(reader, sharing)
    responses = fetch(world, client_for(world, reader), route, resource)
    plains = world["plains"][sharing]
    texts = [body_text(r) for r in responses]

    # never: the plaintext of a value the reader may not see in full, anywhere in the answer
    secret = {
        value
        for row in plains["all"]
        for name, value in row.items()
        if views is None or views[name] != FULL or route.startswith("search")
    }
    secret.discard(None)
    leaks = sorted(v for v in secret for text in texts if v in text)
    assert not leaks, f"{route} shows {leaks}"

    if route.startswith("search"):
        assert all(r.status_code == 200 for r in responses)
        if route == "search_api":
            assert resource.pk in [hit["id"] for hit in responses[0].json()["results"]]
        return
    if views is None:
        if route == "page":
            assert responses[0].status_code == 200 and "request" in texts[0].lower()
        else:
            assert {r.status_code for r in responses} == {403}, [r.content[:200] for r in responses]
        return
    assert all(r.status_code == 200 for r in responses), [r.content[:300] for r in responses]
    by_code = {row["code"]: row for row in plains["current"]}
    problems: list[str] = []
    if route in ("json", "csv", "xlsx"):
        content = responses[0].content
        got = {"json": lambda: rows_of_json(responses[0].json()), "csv": lambda: rows_of_csv(content),
               "xlsx": lambda: rows_of_xlsx(content)}[route]()  # fmt: skip
        assert len(got) == 3
        if route != "json":  # files carry every shown field; empty cells for none
            got = {k: {n: v for n, v in row.items() if n in views and views[n] != HIDDEN} for k, row in got.items()}
            assert all(set(row) == {n for n, v in views.items() if v != HIDDEN} for row in got.values())
        for row in got.values():
            problems += check_row(row, by_code[row["code"]], views, route)
    elif route == "by_key":
        for response in responses:
            row = response.json()
            problems += check_row({k: v for k, v in row.items() if k != "_id"}, by_code[row["code"]], views, route)
    elif route == "changes":
        changes = responses[0].json()["changes"]
        assert [c["op"] for c in changes] == ["insert"] * 3 + ["update"]
        for change, plain in zip(changes, plains["all"], strict=True):
            problems += check_row(change["values"], plain, views, f"change {change['seq']}")
    elif route == "page":
        for plain in plains["current"]:
            for name, view in views.items():
                if view == FULL and plain[name] not in texts[0]:
                    problems.append(f"page {name}: {plain[name]!r} not shown in full")
    assert not problems, "\n".join(problems)


def test_the_search_never_finds_a_record_value(world, db):
    """Records are not indexed: searching for any stored value finds no dataset, even for the owner."""
    client = client_for(world, "owner_member")
    for sharing in ("conditional", "open"):
        for name in ("internal_none", "secret_none", "sensitive_partial"):
            text = world["plains"][sharing]["current"][1][name]
            assert client.get(f"{API}/search", {"q": text}).json()["total"] == 0


@pytest.mark.parametrize("reader", ["grant_fields", "personal_grant", "other_department", "service_token"])
def test_filters_sorts_and_text_search_say_nothing_about_values_not_shown_in_full(world, db, reader):
    """A filter on a field the reader does not see in full would tell, row by row, whether a guess is right."""
    resource = world["datasets"]["open"]
    views = expected_views(reader, "open")
    client = client_for(world, reader)
    base = f"{API}/datasets/{resource.pk}/records"
    row = world["plains"]["open"]["current"][1]
    for name, view in views.items():
        if view == FULL:
            continue
        for params in ({name: row[name]}, {f"{name}__prefix": row[name][:3]}, {f"{name}__in": row[name]},
                       {f"{name}__null": "false"}, {"sort": name}, {"sort": f"-{name}"}):  # fmt: skip
            answer = client.get(base, params)
            assert answer.status_code == 422, (name, params, answer.content[:200])
        found = client.get(base, {"q": row[name]})
        assert found.status_code in (200, 422)
        if found.status_code == 200:
            assert found.json()["items"] == [], (name, found.json())
