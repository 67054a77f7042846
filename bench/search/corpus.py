"""A deterministic (seeded) organization for the search benchmark, written straight into the tables.

The services would take hours for 200,000 resources and would write events, which are not what is
measured, so rows go in with `bulk_create`; the search index is then built by the real indexing code
(see `measure.index_ours`).

Sharing is designed so that a person typically sees a few percent of the corpus (their own
departments' resources, the 2% shared with the whole organization, what is scoped to their
department or bureau, and conditional resources granted to them), which is what lets the benchmark
pick a person who sees about 5%, while an admin sees everything.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from bench.search import vocabulary as vocab

INSERT_BATCH = 2000
SCOPE_ALL_SHARE = 0.02
BUREAU_SCOPE_SHARE = 0.3
ENGLISH_SHARE = 0.2


@dataclass(frozen=True)
class Sizes:
    docs: int = 200_000
    people: int = 5_000
    departments: int = 200
    grants: int = 50_000
    seed: int = 42

    @classmethod
    def scaled(cls, docs: int, seed: int = 42, **overrides) -> Sizes:
        """Sizes in the proportions of the full benchmark (200k docs, 5k people, 200 departments,
        50k grants) for a smaller or larger corpus; explicit values win."""
        base = {
            "docs": docs,
            "people": max(20, min(5_000, round(docs / 40))),
            "departments": max(12, min(200, round(docs / 25))),
            "grants": round(docs / 4),
            "seed": seed,
        }
        base.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**base)


@dataclass
class Corpus:
    """What was loaded: ids the measurements need."""

    sizes: Sizes
    resource_ids: list[int] = field(default_factory=list)
    person_ids: list[int] = field(default_factory=list)
    admin_id: int = 0
    department_ids: list[int] = field(default_factory=list)
    grants: int = 0


# -- text ---------------------------------------------------------------------------------------


class Writer:
    """Titles, summaries and bodies of about 300 characters, mixed Chinese and English."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        weights = [1 / (rank + 1) ** 0.7 for rank in range(len(vocab.THEMES))]
        self.theme_weights = weights

    def theme(self) -> vocab.Theme:
        return self.rng.choices(vocab.THEMES, weights=self.theme_weights)[0]

    def _pick(self, *pools) -> str:
        return self.rng.choice(self.rng.choice(pools))

    def _zh_sentence(self, main: vocab.Theme, other: vocab.Theme, bureau: str) -> str:
        r = self.rng
        a, b = r.sample(main.zh, 2)
        c = r.choice(other.zh if r.random() < 0.3 else main.zh)
        verb, verb2 = r.sample(vocab.VERBS, 2)
        general = r.choice(vocab.GENERAL)
        place = r.choice(vocab.PLACES)
        month, day, n = r.randint(1, 12), r.randint(1, 28), r.randint(3, 2000)
        templates = (
            f"{bureau}按照{general}要求，对{place}{a}{b}情况进行了{verb}。",
            f"截至{month}月底，{a}{b}已{verb}{n}件，{c}{verb2}工作同步推进。",
            f"下一步将进一步加强{a}与{c}的{verb}，确保{b}{verb2}落实到位。",
            f"本次涉及{a}、{b}、{c}等事项，请{place}于{month}月{day}日前报送{r.choice(vocab.DOC_TYPES)}。",
            f"{a}{b}相关{general}已通过平台{verb}，共计{n}条记录。",
            f"针对{c}中发现的{general}问题，{bureau}已{verb}并{verb2}{a}。",
        )
        return r.choice(templates)

    def _en_sentence(self, main: vocab.Theme, other: vocab.Theme) -> str:
        r = self.rng
        e1 = r.choice(main.en)
        e2 = r.choice(other.en if r.random() < 0.3 else main.en)
        g1, g2 = r.sample(vocab.EN_GENERAL, 2)
        doc = r.choice(vocab.EN_DOC_TYPES)
        templates = (
            f"The {e1} was updated after the {e2} and the {g1} were checked.",
            f"Please submit the {e1} {doc} with the {g1} before the end of the month.",
            f"The team reviewed {e1} {g1} against the {e2} {g2}.",
            f"Open items: {e1}, {e2} and the {g1}.",
            f"Next steps: finalize the {e1} {doc} and share it through the {g1}.",
        )
        return r.choice(templates)

    def document(self, bureau: str) -> tuple[str, str, str, vocab.Theme]:
        """(title, summary, body, main theme)."""
        r = self.rng
        main, other = self.theme(), self.theme()
        a, b = r.sample(main.zh, 2)
        doc = r.choice(vocab.DOC_TYPES)
        year = r.choice((2022, 2023, 2024, 2025))
        if r.random() < ENGLISH_SHARE:
            title = f"{r.choice(main.en).title()} {r.choice(vocab.EN_DOC_TYPES)} Q{r.randint(1, 4)} {year}"
            summary = (
                f"This {r.choice(vocab.EN_DOC_TYPES)} covers {r.choice(main.en)} and {r.choice(other.en)}; 涉及{a}{b}。"
            )
            parts: list[str] = []
            while sum(map(len, parts)) < 200:
                parts.append(
                    self._zh_sentence(main, other, bureau) if r.random() < 0.2 else self._en_sentence(main, other)
                )
            body = " ".join(parts)
        else:
            title = r.choice(
                (
                    f"关于{a}{b}的{doc}",
                    f"{year}年{a}{b}{doc}",
                    f"{bureau}{a}{b}工作{doc}",
                    f"{a}{b}{doc}（第{r.randint(1, 4)}季度）",
                    f"{a}与{r.choice(other.zh)}{r.choice(vocab.VERBS)}{doc}",
                )
            )
            summary = self._zh_sentence(main, other, bureau)
            if r.random() < 0.4:
                summary += f"（{r.choice(main.en)}）"
            parts = ["## 工作进展\n"] if r.random() < 0.3 else []
            while sum(map(len, parts)) < 190:
                parts.append(
                    self._zh_sentence(main, other, bureau) if r.random() < 0.85 else self._en_sentence(main, other)
                )
            body = "".join(parts)
        return title[:200], summary, body, main

    def person_name(self) -> str:
        given = "".join(self.rng.choice(vocab.GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(vocab.SURNAMES) + given


# -- loading ------------------------------------------------------------------------------------


def _departments(sizes: Sizes, rng: random.Random):
    from sharehub.org.models import Department

    tops = max(3, min(len(vocab.BUREAUS), round(sizes.departments / 10)))
    top_rows = Department.objects.bulk_create(
        [
            Department(name=name, code=f"{code}-{i}", description=name)
            for i, (name, code) in enumerate(vocab.BUREAUS[:tops])
        ]
    )
    top_rows = list(Department.objects.filter(code__in=[d.code for d in top_rows]).order_by("pk"))
    units = []
    for n in range(sizes.departments - tops):
        parent = top_rows[n % tops]
        index = n // tops
        unit = vocab.UNITS[index] if index < len(vocab.UNITS) else f"第{index + 1}科"
        units.append(Department(name=parent.name + unit, code=f"u{n:04d}", parent_id=parent.pk, description=unit))
    Department.objects.bulk_create(units)
    rows = list(Department.objects.order_by("pk"))
    for d in rows:  # two levels: bureaus and their units
        d.path = f"/{d.pk}/" if d.parent_id is None else f"/{d.parent_id}/{d.pk}/"
    Department.objects.bulk_update(rows, ["path"], batch_size=INSERT_BATCH)
    return rows


def _people(sizes: Sizes, rng: random.Random, writer: Writer, departments) -> tuple[list[int], int]:
    from sharehub.org.models import Membership, User

    users = [
        User(username=f"p{i:05d}", password="!", display_name=writer.person_name(), is_active=True)
        for i in range(sizes.people)
    ]
    users.append(User(username="bench-admin", password="!", display_name="管理员", is_org_admin=True))
    User.objects.bulk_create(users, batch_size=INSERT_BATCH)
    ids = dict(User.objects.values_list("username", "pk"))
    person_ids = [ids[f"p{i:05d}"] for i in range(sizes.people)]
    weights = [rng.lognormvariate(0, 0.6) for _ in departments]
    memberships, seen, roles_given = [], set(), {}
    for user_id in person_ids:
        count = 2 if rng.random() < 0.1 else 1
        for dept in rng.choices(departments, weights=weights, k=count):
            if (user_id, dept.pk) in seen:
                continue
            seen.add((user_id, dept.pk))
            given = roles_given.get(dept.pk, 0)
            role = (
                Membership.Role.HEAD if given == 0 else Membership.Role.STEWARD if given < 3 else Membership.Role.MEMBER
            )
            roles_given[dept.pk] = given + 1
            memberships.append(Membership(user_id=user_id, department_id=dept.pk, role=role))
    Membership.objects.bulk_create(memberships, batch_size=INSERT_BATCH)
    return person_ids, ids["bench-admin"]


def _resources(sizes: Sizes, rng: random.Random, writer: Writer, departments, now: datetime, progress) -> list[int]:
    from sharehub.catalog.models import Category, Project, Resource, Tag
    from sharehub.exchange.models import Dataset, DatasetField

    tags = {name for theme in vocab.THEMES for name in theme.tags} | {
        "2024",
        "2025",
        "公开数据",
        "open-data",
        "重点工作",
    }
    Tag.objects.bulk_create([Tag(name=name) for name in sorted(tags)])
    tag_ids = dict(Tag.objects.values_list("name", "pk"))
    Category.objects.bulk_create([Category(name=name, position=i) for i, name in enumerate(vocab.CATEGORIES)])
    category_ids = list(Category.objects.values_list("pk", flat=True))
    Project.objects.bulk_create(
        [Project(name=f"{theme.zh[0]}重点项目", department_id=d.pk) for d in departments for theme in vocab.THEMES[:2]]
    )
    projects = {}
    for pk, dept_id in Project.objects.values_list("pk", "department_id"):
        projects.setdefault(dept_id, []).append(pk)

    tops = [d for d in departments if d.parent_id is None]
    units = [d for d in departments if d.parent_id is not None] or tops
    bureau_of = {
        d.pk: (d if d.parent_id is None else next(t for t in tops if t.pk == d.parent_id)) for d in departments
    }
    owner_weights = [rng.lognormvariate(0, 0.8) for _ in departments]
    # Knowledge articles are left out: each needs its place in a space's tree (sharehub.knowledge), not only a row.
    kinds = ["document", "dataset", "notice", "progress", "link"]
    kind_weights = [45, 10, 20, 15, 10]
    statuses = (Resource.Status.PUBLISHED, Resource.Status.ARCHIVED, Resource.Status.DRAFT)
    sharing = (Resource.SharingType.OPEN, Resource.SharingType.CONDITIONAL, Resource.SharingType.RESTRICTED)
    Scope = Resource.scope_departments.through
    TagLink = Resource.tags.through

    ids: list[int] = []
    for start in range(0, sizes.docs, INSERT_BATCH):
        rows, tag_plan, scope_plan, field_plan = [], [], [], []
        for i in range(start, min(sizes.docs, start + INSERT_BATCH)):
            owner = rng.choices(departments, weights=owner_weights)[0]
            bureau = bureau_of[owner.pk]
            title, summary, body, theme = writer.document(bureau.name)
            kind = rng.choices(kinds, weights=kind_weights)[0]
            status = rng.choices(statuses, weights=(88, 5, 7))[0]
            share = rng.choices(sharing, weights=(50, 35, 15))[0]
            scope_all = share != Resource.SharingType.RESTRICTED and rng.random() < SCOPE_ALL_SHARE
            updated = now - timedelta(days=min(1500.0, rng.expovariate(1 / 300)), seconds=rng.randint(0, 86400))
            if kind == Resource.Kind.DATASET:
                field_plan.append(
                    (
                        i,
                        [
                            DatasetField(name=f"field_{n}", label_zh=f"{word}{suffix}", position=n + 1)
                            for n, (word, suffix) in enumerate(
                                zip(rng.sample(theme.zh, 3), ("编号", "金额", "日期"), strict=True)
                            )
                        ],
                    )
                )
            rows.append(
                Resource(
                    code=f"BENCH-{i:07d}",
                    kind=kind,
                    title=title,
                    summary=summary,
                    body=body,
                    owner_department_id=owner.pk,
                    status=status,
                    sharing_type=share,
                    scope_all=scope_all,
                    category_id=rng.choice(category_ids),
                    project_id=rng.choice(projects[owner.pk]) if kind == Resource.Kind.PROGRESS else None,
                    link_url="https://intranet.example.org/doc" if kind == Resource.Kind.LINK else "",
                    conditions=f"仅用于{rng.choice(vocab.VERBS)}{theme.zh[0]}业务，不得转授他人"
                    if share == Resource.SharingType.CONDITIONAL
                    else "",
                    restriction_basis="《数据安全法》第二十一条" if share == Resource.SharingType.RESTRICTED else "",
                    updated_at=updated,
                    published_at=updated if status != Resource.Status.DRAFT else None,
                )
            )
            for name in rng.sample(theme.tags, rng.randint(0, len(theme.tags))):
                tag_plan.append((i, tag_ids[name]))
            if rng.random() < 0.1:
                tag_plan.append((i, tag_ids[rng.choice(("2024", "2025", "公开数据", "open-data", "重点工作"))]))
            if share != Resource.SharingType.RESTRICTED and not scope_all:
                picks = {
                    (rng.choice(tops) if rng.random() < BUREAU_SCOPE_SHARE else rng.choice(units)).pk
                    for _ in range(rng.randint(1, 3))
                }
                scope_plan.extend((i, dept_id) for dept_id in picks)
        with transaction.atomic():
            Resource.objects.bulk_create(rows)
            codes = dict(Resource.objects.filter(code__in=[r.code for r in rows]).values_list("code", "pk"))
            batch_ids = [codes[r.code] for r in rows]
            TagLink.objects.bulk_create(
                [TagLink(resource_id=batch_ids[i - start], tag_id=t) for i, t in dict.fromkeys(tag_plan)]
            )
            Scope.objects.bulk_create([Scope(resource_id=batch_ids[i - start], department_id=d) for i, d in scope_plan])
            Dataset.objects.bulk_create([Dataset(resource_id=batch_ids[i - start]) for i, _fields in field_plan])
            for i, fields in field_plan:
                for field in fields:
                    field.dataset_id = batch_ids[i - start]
            DatasetField.objects.bulk_create([f for _i, fields in field_plan for f in fields])
        ids.extend(batch_ids)
        progress(len(ids))
    return ids


def _grants(sizes: Sizes, rng: random.Random, person_ids: list[int], departments, now: datetime) -> int:
    from sharehub.access.models import Grant
    from sharehub.catalog.models import Resource

    conditional = list(
        Resource.objects.filter(
            sharing_type=Resource.SharingType.CONDITIONAL, status=Resource.Status.PUBLISHED
        ).values_list("pk", flat=True)
    )
    if not conditional or not sizes.grants:
        return 0
    rows = []
    for _ in range(sizes.grants):
        to_person = rng.random() < 0.75
        if rng.random() < 0.85:
            until = now + timedelta(days=rng.uniform(1, 180))
            start = now - timedelta(days=rng.uniform(1, 300))
        else:
            until = now - timedelta(days=rng.uniform(1, 60))
            start = until - timedelta(days=rng.uniform(30, 180))
        rows.append(
            Grant(
                resource_id=rng.choice(conditional),
                grantee_user_id=rng.choice(person_ids) if to_person else None,
                grantee_department_id=None if to_person else rng.choice(departments).pk,
                purpose="业务核验需要",
                valid_from=start,
                valid_until=until,
                revoked_at=now - timedelta(days=1) if rng.random() < 0.05 else None,
            )
        )
    Grant.objects.bulk_create(rows, batch_size=INSERT_BATCH)
    return len(rows)


def load(sizes: Sizes, progress: Callable[[str], None] = lambda message: None) -> Corpus:
    """Generate the organization and write it into the (empty) database."""
    from sharehub.search.models import SearchTerm

    rng = random.Random(sizes.seed)
    writer = Writer(rng)
    now = timezone.now()
    with transaction.atomic():
        departments = _departments(sizes, rng)
        person_ids, admin_id = _people(sizes, rng, writer, departments)
        SearchTerm.objects.bulk_create([SearchTerm(text=t, note="bench") for t in vocab.ORG_TERMS])
    progress(f"{len(departments)} departments, {len(person_ids)} people")
    resource_ids = _resources(
        sizes, rng, writer, departments, now, lambda n: progress(f"{n} resources") if n % 20_000 == 0 else None
    )
    with transaction.atomic():
        grants = _grants(sizes, rng, person_ids, departments, now)
    progress(f"{len(resource_ids)} resources, {grants} grants")
    return Corpus(
        sizes=sizes,
        resource_ids=resource_ids,
        person_ids=person_ids,
        admin_id=admin_id,
        department_ids=[d.pk for d in departments],
        grants=grants,
    )
