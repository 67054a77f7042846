"""Properties over generated datasets: for generated schemas (type, sensitivity, masking per field), records,
grants and consents, no route gives a caller the plaintext of a value the oracle (`world.oracle`, from
`policy.fields`' docstring) says they may not see in full, nor any value of a record whose data subject did not
consent; and a consumer replaying the change feed from 0 rebuilds exactly what the records route returns."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharehub.access.models import Grant
from sharehub.exchange import schema, services
from sharehub.exchange.models import Consent, Dataset
from sharehub.exchange.storage import Codec
from sharehub.exchange.types import make_resident_id
from tests import factories
from tests.exchange.world import FULL, RULES, SENSITIVITIES, body_text, oracle, rows_of_json

API = "/api/v1"
TYPES = ("text", "resident_id", "phone", "email")
GRANT_STATES = ("none", "active", "expired", "revoked")
CONSENT_STATES = ("none", "ok", "other_purpose", "withdrawn", "ended", "other_department")
PURPOSE = "TREAT"
CJK = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥"

fields_st = st.lists(st.tuples(st.sampled_from(TYPES), st.sampled_from(SENSITIVITIES), st.sampled_from(RULES)),
                     min_size=1, max_size=5)  # fmt: skip
grant_st = st.tuples(st.sampled_from(GRANT_STATES), st.sets(st.integers(0, 5), max_size=3))


class Values:
    """Unique plaintexts, long enough that no masked form, digest or other value contains one by chance."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.n = 0
        self.seen: set[str] = set()

    def make(self, field_type: str) -> str:
        while True:
            self.n += 1
            if field_type == "resident_id":
                value = make_resident_id(self.rng)
            elif field_type == "phone":
                value = f"13{self.rng.randrange(10**9):09d}"
            elif field_type == "email":
                value = f"p{self.rng.randrange(16**8):08x}{self.n}@example.com"
            else:
                value = "值" + "".join(self.rng.choice(CJK) for _ in range(self.rng.randrange(3, 7))) + f"{self.n}号"
            if value not in self.seen:
                self.seen.add(value)
                return value


@pytest.fixture
def cast(db, settings):
    settings.API_RATE_TOKEN = settings.API_RATE_ADDRESS = (1_000_000, 60)
    owner = factories.department("税务局", "SWJ")
    granted, personal, other = (factories.department(f"部门{c}", f"D{c}") for c in "GPO")
    return {
        "owner": owner,
        "granted": granted,
        "other": other,
        "steward": factories.member(owner, "steward", username="steward"),
        "readers": {
            "owner_member": factories.member(owner, username="owner_member"),
            "granted_member": factories.member(granted, username="granted_member"),
            "personal": factories.member(personal, username="personal"),
            "other_member": factories.member(other, username="other_member"),
        },
    }


def make_grant(resource, state: str, fields: list[str], **grantee):
    if state == "none":
        return None
    now = timezone.now()
    return Grant.objects.create(
        resource=resource,
        purpose="核验",
        fields=fields,
        valid_from=now - timedelta(days=3),
        valid_until=now - timedelta(days=1) if state == "expired" else now + timedelta(days=3),
        revoked_at=now - timedelta(hours=1) if state == "revoked" else None,
        **grantee,
    )


def make_consent(dataset, codec, subject_field, value: str, state: str, cast) -> None:
    if state == "none":
        return
    now = timezone.now()
    Consent.objects.create(
        dataset=dataset,
        subject=codec.digest(subject_field, value),
        grantee_department=cast["other"] if state == "other_department" else cast["granted"],
        purpose="HRESCH" if state == "other_purpose" else PURPOSE,
        valid_from=now - timedelta(days=5),
        valid_until=now - timedelta(days=1) if state == "ended" else now + timedelta(days=5),
        withdrawn_at=now - timedelta(hours=2) if state == "withdrawn" else None,
    )


def grant_views(reader: str, grants: dict, sharing: str, fields: list[dict]):
    """(may read, field -> view) by the oracle; grants: reader -> (state, named fields) of what they hold."""
    if reader == "owner_member":
        return True, dict.fromkeys([f["name"] for f in fields], FULL)
    held = [g for g in grants.get(reader, []) if g[0] == "active"]
    if sharing == "conditional" and not held:
        return False, {}
    named = {name for _state, names in held for name in names}
    whole = any(not names for _state, names in held)
    return True, {f["name"]: oracle(sees_all=False, named=named, whole=whole, field=f) for f in fields}


def responses_for(client: Client, resource, codes: list[str]) -> list:
    base = f"{API}/datasets/{resource.pk}"
    out = [
        client.get(f"{base}/records", {"limit": 1000, "purpose": PURPOSE}),
        client.get(f"{base}/changes", {"limit": 1000, "purpose": PURPOSE}),
        client.get(f"{base}/records", {"format": "csv", "purpose": PURPOSE}),
        client.get(f"{base}/records", {"format": "xlsx", "purpose": PURPOSE}),
        client.get(f"/resources/{resource.code}/data/", {"purpose": PURPOSE}),
    ]
    out += [client.get(f"{base}/record", {"code": code, "purpose": PURPOSE}) for code in codes[:2]]
    return out


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=fields_st,
    sharing=st.sampled_from(["conditional", "open"]),
    dept_grant=grant_st,
    personal_grant=grant_st,
    consent=st.booleans(),
    subject=st.tuples(st.sampled_from(SENSITIVITIES), st.sampled_from(RULES)),
    consents=st.lists(st.sampled_from(CONSENT_STATES), min_size=1, max_size=4),
    seed=st.integers(0, 2**32),
)
def test_no_route_leaks_what_the_oracle_withholds(
    cast, spec, sharing, dept_grant, personal_grant, consent, subject, consents, seed
):
    values = Values(seed)
    fields = [{"name": "code", "type": "text", "sensitivity": "public", "masking": "none", "required": True}]
    fields += [{"name": f"f{i}", "type": t, "sensitivity": s, "masking": r} for i, (t, s, r) in enumerate(spec)]
    if consent:
        fields.append({"name": "subject", "type": "resident_id", "sensitivity": subject[0], "masking": subject[1]})
    names = [f["name"] for f in fields]
    with transaction.atomic():
        steward = cast["steward"]
        resource = factories.resource(cast["owner"], by=steward, kind="dataset", sharing_type=sharing)
        schema.change_dataset(
            steward, resource, fields, key_fields=["code"], consent_required=consent,
            subject_field="subject" if consent else None,
        )  # fmt: skip
        plain = lambda f: f"KEY{values.make('email')}Z" if f["name"] == "code" else values.make(f["type"])  # noqa: E731
        rows = [{f["name"]: plain(f) for f in fields} for _ in consents]
        services.upsert(steward, resource, rows)
        dataset = Dataset.objects.get(pk=resource.pk)
        codec = Codec(dataset, list(dataset.fields.all()))
        consented = {"granted_member": set(), "other_member": set(), "personal": set()}
        for row, state in zip(rows, consents, strict=True):
            if consent:
                make_consent(dataset, codec, codec.by_name["subject"], row["subject"], state, cast)
            if state == "ok":
                consented["granted_member"].add(row["code"])
            elif state == "other_department":
                consented["other_member"].add(row["code"])
        named = lambda picked: sorted(names[1:][i] for i in picked if i < len(names) - 1)  # noqa: E731
        grants = {}
        state, picked = dept_grant
        make_grant(resource, state, named(picked), grantee_department=cast["granted"])
        grants["granted_member"] = [(state, named(picked))]
        state, picked = personal_grant
        make_grant(resource, state, named(picked), grantee_user=cast["readers"]["personal"])
        grants["personal"] = [(state, named(picked))]

        for reader, user in cast["readers"].items():
            readable, views = grant_views(reader, grants, sharing, fields)
            # whose subject consented (to the reader's department, for PURPOSE, now) matters to all but the owner
            admitted = {r["code"] for r in rows}
            if consent and reader != "owner_member":
                admitted = consented[reader]
            withheld = {
                row[name]
                for row in rows
                for name in names
                if not readable or row["code"] not in admitted or views[name] != FULL
            }
            client = Client()
            client.force_login(user)
            responses = responses_for(client, resource, [r["code"] for r in rows])
            for response in responses:
                assert response.status_code in (200, 403, 404), (reader, response.content[:300])
                text = body_text(response)
                leaked = sorted(v for v in withheld if v in text)
                assert not leaked, f"{reader} got {leaked} from {response.request['PATH_INFO']}"
            if readable:
                listed = rows_of_json(responses[0].json())
                assert sorted(r["code"] for r in listed.values()) == sorted(admitted), reader
                for row in listed.values():
                    plain = next(r for r in rows if r["code"] == row["code"])
                    assert {n: row[n] for n in names if views[n] == FULL} == {
                        n: plain[n] for n in names if views[n] == FULL
                    }
            else:
                assert responses[0].status_code == 403
        transaction.set_rollback(True)


# --- the change feed replayed ---------------------------------------------------------------------------------

op_st = st.one_of(
    st.tuples(st.just("upsert"), st.lists(st.integers(0, 7), min_size=1, max_size=4, unique=True)),
    st.tuples(st.just("delete"), st.lists(st.integers(0, 7), min_size=1, max_size=3, unique=True)),
    st.tuples(st.just("grant"), st.sets(st.integers(0, 3), max_size=3)),
    st.tuples(st.just("revoke"), st.just(None)),
)


def replay(client, resource, since: int, state: dict, sizes) -> int:
    """Read the feed after `since` in pages of the drawn sizes into `state`; returns the last change number."""
    while True:
        page = client.get(f"{API}/datasets/{resource.pk}/changes", {"since": since, "limit": sizes()}).json()
        for change in page["changes"]:
            if change["op"] == "delete":
                state.pop(change["_id"], None)
            else:
                state[change["_id"]] = change["values"]
        if page["next_since"] == since:
            return since
        since = page["next_since"]


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    spec=st.lists(st.tuples(st.sampled_from(SENSITIVITIES), st.sampled_from(RULES)), min_size=1, max_size=4),
    ops=st.lists(op_st, min_size=1, max_size=8),
    sharing=st.sampled_from(["conditional", "open"]),
    data=st.data(),
)
def test_replaying_the_change_feed_rebuilds_the_records(cast, spec, ops, sharing, data):
    fields = [{"name": "code", "type": "text", "sensitivity": "public", "masking": "none", "required": True}]
    fields += [{"name": f"f{i}", "type": "text", "sensitivity": s, "masking": r} for i, (s, r) in enumerate(spec)]
    values = Values(data.draw(st.integers(0, 2**32), label="seed"))
    sizes = lambda: data.draw(st.integers(1, 5), label="page size")  # noqa: E731
    steward, reader = cast["steward"], cast["readers"]["granted_member"]
    with transaction.atomic():
        resource = factories.resource(cast["owner"], by=steward, kind="dataset", sharing_type=sharing)
        schema.change_dataset(steward, resource, fields, key_fields=["code"])
        grant = make_grant(resource, "active", [], grantee_department=cast["granted"])
        client = Client()
        client.force_login(reader)
        follower: dict = {}
        since = 0
        for op, arg in ops:
            if op == "upsert":
                services.upsert(steward, resource, [
                    {f["name"]: f"K{n}" if f["name"] == "code" else values.make("text") for f in fields} for n in arg
                ])  # fmt: skip
            elif op == "delete":
                services.delete_by_keys(steward, resource, [f"K{n}" for n in arg])
            elif op == "grant":
                if grant is not None:
                    grant.revoked_at = timezone.now()
                    grant.save(update_fields=["revoked_at"])
                named = sorted(fields[1:][i]["name"] for i in arg if i < len(fields) - 1)
                grant = make_grant(resource, "active", named, grantee_department=cast["granted"])
                follower, since = {}, 0  # what it may see changed: a follower starts again from 0
            elif grant is not None:
                grant.revoked_at = timezone.now()
                grant.save(update_fields=["revoked_at"])
                grant, follower, since = None, {}, 0
            if grant is not None or sharing == "open":
                since = replay(client, resource, since, follower, sizes)
        listed = client.get(f"{API}/datasets/{resource.pk}/records", {"limit": 1000})
        if grant is None and sharing == "conditional":
            assert listed.status_code == 403
        else:
            records = rows_of_json(listed.json())
            rebuilt: dict = {}
            replay(client, resource, 0, rebuilt, sizes)
            assert rebuilt == records
            assert follower == records
        transaction.set_rollback(True)
