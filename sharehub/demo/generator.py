"""Load the demo organization through the services, so codes, versions and events are real.

`plan(seed, scale, today)` decides every resource up front from `random.Random(seed)`, and when each
is created, published, edited and archived; `load` creates the organization, then plays about
thirteen months of history through the services in the order of time (resources, edits, requests,
decisions, reads of closed content, revocations, and the background sweep's daily round that notes
grants expiring and expired and escalates overdue requests), with the clock of `history.Clock` set
to each step's time, all in one transaction. The history ends on the day of loading (see
`history.py` for how times are laid out): the same seed gives the same departments, people,
resources, codes and steps, at the same working-day offsets from that day.
"""

from __future__ import annotations

import math
import random
from calendar import monthrange
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone, translation

from sharehub.access import services as access
from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Attachment, Category, DataGrade, Project, Resource, ResourceVersion
from sharehub.demo import data, knowledge, records
from sharehub.demo.history import DAY_MINUTES, WORKING_DAYS, Clock, Timeline, WorkingTime, frozen_time
from sharehub.errors import Invalid
from sharehub.events import consumers
from sharehub.events.models import Event
from sharehub.feeds import follows
from sharehub.feeds import services as feeds
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import Action, ProcessAction, can
from sharehub.search.services import rebuild_index

PERIODS = ("第一季度", "第二季度", "第三季度", "第四季度", "全年")
REPORT_SLOTS = 15  # per topic: the last 12 quarters and the last 3 years before the day of loading
GENERATED_REPORTS = 184  # curated entries are about 116; together about 300
BUILD_OUT_DAYS = 40  # working days in which departments registered what they already held
DEPT_THEME = {
    "BGT": "政务公开",
    "SWJ": "营商环境",
    "RSJ": "社会保障",
    "SBZX": "社会保障",
    "SJJ": "营商环境",
    "WJW": "公共卫生",
    "CDC": "公共卫生",
    "YY1": "公共卫生",
    "DX": "教育科研",
    "DXXX": "教育科研",
    "DSJ": "政务公开",
}
DEPT_TAG = {
    "BGT": "政务服务",
    "SWJ": "纳税",
    "RSJ": "就业",
    "SBZX": "社保",
    "SJJ": "营商环境",
    "WJW": "医疗",
    "CDC": "公共卫生",
    "YY1": "医疗",
    "DX": "科研",
    "DXXX": "信息化",
    "DSJ": "数据共享",
}


@dataclass
class Spec:
    """One planned resource, and when things happen to it (positions on the working-time axis)."""

    dept: str
    kind: str
    title: str
    summary: str
    body: str
    tags: list[str]
    sharing_type: str = Resource.SharingType.OPEN
    conditions: str = ""
    restriction_basis: str = ""
    scope: list[str] | None = None  # department codes; None = whole organization
    frequency: str = Resource.Frequency.IRREGULAR
    category: str | None = None
    grade: str | None = None
    fields: list[dict] = field(default_factory=list)
    project: str | None = None
    link_url: str = ""
    status: str = Resource.Status.PUBLISHED  # where it ends up
    covers: date | None = None  # a periodic report: the last day of the period it is about
    created: float = 0.0
    published: float | None = None  # set when it was written as a draft and published later
    edits: list[float] = field(default_factory=list)
    archived: float | None = None

    @property
    def available(self) -> float:
        """When others could first see it (published), for a resource that ends up published."""
        return self.published if self.published is not None else self.created

    @property
    def max_grant_days(self) -> int:
        """Datasets shared under conditions are exchanged for a year at a time; other content for half."""
        return 365 if self.kind == Resource.Kind.DATASET else 180


@dataclass
class Summary:
    departments: int = 0
    people: int = 0
    service_accounts: int = 0
    resources: int = 0
    by_kind: dict = field(default_factory=dict)
    by_sharing: dict = field(default_factory=dict)
    by_status: dict = field(default_factory=dict)
    versions: int = 0
    attachments: int = 0
    grants: int = 0
    projects: int = 0
    events: int = 0
    history_from: date | None = None
    history_to: date | None = None
    requests: dict = field(default_factory=dict)
    grant_states: dict = field(default_factory=dict)
    records: dict = field(default_factory=dict)  # dataset title -> records loaded
    calendar: dict = field(default_factory=dict)  # year -> official days loaded, or why none were


def is_loaded() -> bool:
    """True when the demo's departments are there."""
    codes = {code for code, *_rest in data.DEPARTMENTS}
    return Department.objects.filter(code__in=codes).count() == len(codes)


def logins() -> list[tuple[str, str, str, str]]:
    """(username, display name, role, department) worth signing in as: the org roles, then the first
    head, steward and member of each department."""
    rows = [(*data.ADMIN, "organization admin", "—"), (*data.AUDITOR, "auditor", "—")]
    names = {code: name for code, name, *_rest in data.DEPARTMENTS}
    seen: set[tuple[str, str]] = set()
    for code in names:
        for username, display, memberships in data.PEOPLE:
            role = memberships.get(code)
            if role and next(iter(memberships)) == code and (code, role) not in seen:
                seen.add((code, role))
                rows.append((username, display, role, names[code]))
    for username, display, code in data.SERVICE_ACCOUNTS:
        rows.append((username, display, "service account (API tokens only)", names[code]))
    return rows


# --------------------------------------------------------------------------------------------- plan


def _markdown_fields(fields: list[dict]) -> str:
    lines = ["| 字段 | 类型 | 说明 | 敏感级别 |", "|---|---|---|---|"]
    for f in fields:
        lines.append(
            f"| `{f['name']}` | {f['type']} | {f['description']} | {data.SENSITIVITY_LABEL[f['sensitivity']]} |"
        )
    return "\n".join(lines)


def _dataset_body(rng: random.Random, dept_name: str, title: str, summary: str, fields: list[dict]) -> str:
    uses = rng.sample(data.BENEFITS, 2)
    return (
        f"## 数据说明\n\n{summary}\n\n"
        f"数据由**{dept_name}**在业务办理中产生，是该数据项的唯一权威来源。\n\n"
        f"## 字段\n\n{_markdown_fields(fields)}\n\n"
        f"## 共享带来的变化\n\n- {uses[0]}\n- {uses[1]}\n\n"
        f"## 使用须知\n\n{rng.choice(data.SHARING_NOTES)}\n"
    )


def _document_body(rng: random.Random, dept_name: str, title: str, summary: str) -> str:
    points = rng.sample(data.REPORT_POINTS, 3)
    return (
        f"# {title}\n\n{summary}\n\n"
        f"## 一、主要内容\n\n" + "".join(f"{i}. {p}。\n" for i, p in enumerate(points, start=1)) + "\n"
        f"## 二、跨部门协作\n\n{rng.choice(data.SHARING_NOTES)}\n\n"
        f"## 三、下一步工作\n\n- {rng.choice(data.NEXT_STEPS)}\n- {rng.choice(data.NEXT_STEPS)}\n\n"
        f"*{dept_name}*\n"
    )


def _notice_body(rng: random.Random, dept_name: str, title: str, signed: date) -> str:
    due = signed + timedelta(days=rng.randint(7, 30))
    return (
        f"各有关单位：\n\n为做好相关工作，现将有关事项通知如下：\n\n"
        f"一、**工作要求**。各单位要高度重视，明确专人负责，于{due.month}月{due.day}日前完成相关工作。\n\n"
        f"二、**信息报送**。请通过 Sharehub 平台报送相关材料，{rng.choice(data.SHARING_NOTES)}\n\n"
        f"三、**联系方式**。具体事宜请联系{dept_name}资源管理员。\n\n"
        f"{dept_name}\n\n{signed.year}年{signed.month}月{signed.day}日\n"
    )


def _progress_body(rng: random.Random, project: str, milestone: str, step: int, total: int) -> str:
    percent = round(100 * step / total)
    return (
        f"## 本期进展（{step}/{total}）\n\n**{milestone}**，项目总体进度约 {percent}%。\n\n"
        f"## 取得成效\n\n- {rng.choice(data.BENEFITS)}\n\n"
        f"## 存在问题\n\n- {rng.choice(data.PROBLEMS)}\n\n"
        f"## 下一步计划\n\n- {rng.choice(data.NEXT_STEPS)}\n"
    )


def _sharing(rng: random.Random, others: list[str]) -> dict:
    roll = rng.random()
    if roll < 0.62:
        out = {"sharing_type": Resource.SharingType.OPEN}
    elif roll < 0.87:
        out = {"sharing_type": Resource.SharingType.CONDITIONAL, "conditions": rng.choice(data.CONDITIONS)}
    else:
        out = {"sharing_type": Resource.SharingType.RESTRICTED, "restriction_basis": rng.choice(data.RESTRICTION_BASES)}
    if out["sharing_type"] != Resource.SharingType.RESTRICTED and rng.random() < 0.3:
        out["scope"] = sorted(rng.sample(others, rng.randint(1, 3)))
    return out


def _grade(rng: random.Random, sharing_type: str) -> str:
    if sharing_type == Resource.SharingType.RESTRICTED:
        return rng.choice(["重要", "核心"])
    return rng.choices(["一般", "重要", "核心"], weights=[70, 25, 5])[0]


def _take(items: list, scale: float) -> list:
    return items if scale >= 1 else items[: max(1, math.ceil(len(items) * scale))]


def _report_periods(today: date) -> list[tuple[int, str, date]]:
    """The 12 quarters and 3 calendar years that ended before `today`, oldest first, as (year, label,
    last day): reports are written about periods relative to the day of loading."""
    out = []
    year, quarter = today.year, (today.month - 1) // 3
    for _ in range(12):
        quarter -= 1
        if quarter < 0:
            year, quarter = year - 1, 3
        month = 3 * quarter + 3
        out.append((year, PERIODS[quarter], date(year, month, monthrange(year, month)[1])))
    out += [(today.year - back, PERIODS[4], date(today.year - back, 12, 31)) for back in (1, 2, 3)]
    return sorted(out, key=lambda period: (period[2], period[1] == PERIODS[4]))


def _catalog_time(when: random.Random, axis: WorkingTime) -> float:
    """A standing entry: most were registered while the catalog was built, the rest later."""
    if when.random() < 0.7:
        return axis.days(when.uniform(0.05, BUILD_OUT_DAYS))
    return axis.days(when.uniform(BUILD_OUT_DAYS, WORKING_DAYS - 3))


def _after_period(when: random.Random, axis: WorkingTime, last_day: date) -> float:
    """A report is written some working days after its period ends; reports on periods that ended
    before the catalog went live were registered as departments filled in their back catalogue, half
    while it was built and half over the months after."""
    if last_day < axis.first_day:
        if when.random() < 0.5:
            return axis.days(when.uniform(0.5, BUILD_OUT_DAYS))
        return axis.days(when.uniform(BUILD_OUT_DAYS, 4 * BUILD_OUT_DAYS))
    start = axis.at_date(last_day + timedelta(days=1))
    if start >= axis.end - DAY_MINUTES:
        return axis.end - when.uniform(1, DAY_MINUTES / 2)
    return min(start + axis.days(when.uniform(3, 25)), axis.end - when.uniform(1, DAY_MINUTES))


def _lifecycle(when: random.Random, axis: WorkingTime, spec: Spec, created: float, drafted: float = 0.3) -> None:
    """When a resource is created, published (when it was a draft first), edited and archived; each
    step after the one before, all before the end of the history."""
    spec.created = created
    if spec.status == Resource.Status.DRAFT:
        return
    start = created
    if when.random() < drafted:
        start = spec.published = created + min(axis.days(when.uniform(0.2, 4)), (axis.end - created) * 0.2)
    stop = axis.end
    if spec.status == Resource.Status.ARCHIVED:
        stop = spec.archived = start + min(
            axis.days(when.uniform(10, 120)), (axis.end - start) * when.uniform(0.3, 0.9)
        )
    count = when.choices((0, 1, 2, 3), weights=(66, 22, 8, 4))[0]
    spec.edits = sorted(when.uniform(start, stop) for _ in range(count))


def plan(seed: int = 42, scale: float = 1.0, today: date | None = None) -> list[Spec]:
    """Every resource of the demo and its timing, decided from the seed. `scale` < 1 makes a smaller
    demo for tests. `today` (the day of loading; default: today in the organization's zone) names the
    periods that reports cover and the dates notices carry; it changes no choice the seed makes."""
    axis = WorkingTime(today or WorkingTime.day_of_moment(timezone.now()))
    rng = random.Random(seed)
    when = random.Random(seed * 7919 + 1)  # times draw from their own stream, so titles never move with them
    names = {code: name for code, name, *_rest in data.DEPARTMENTS}
    codes = list(names)
    specs: list[Spec] = []

    for code in codes:
        others = [c for c in codes if c != code]
        dept_name = names[code]
        for item in _take(data.DATASETS.get(code, []), scale):
            kind_sharing, text = item["sharing"]
            fields = [
                {"name": n, "type": t, "description": d, "sensitivity": s, **(extra[0] if extra else {})}
                for n, t, d, s, *extra in item["fields"]
            ]
            spec = Spec(
                dept=code,
                kind=Resource.Kind.DATASET,
                title=item["title"],
                summary=item["summary"],
                body=_dataset_body(rng, dept_name, item["title"], item["summary"], fields),
                tags=item["tags"],
                sharing_type=kind_sharing,
                conditions=text if kind_sharing == Resource.SharingType.CONDITIONAL else "",
                restriction_basis=text if kind_sharing == Resource.SharingType.RESTRICTED else "",
                scope=item["scope"],
                frequency=item["frequency"],
                category=item["category"],
                grade=item["grade"],
                fields=fields,
            )
            _lifecycle(when, axis, spec, _catalog_time(when, axis), drafted=0.1)
            specs.append(spec)
        for title, summary, tags in _take(data.DOCUMENTS.get(code, []), scale):
            spec = Spec(
                dept=code,
                kind=Resource.Kind.DOCUMENT,
                title=title,
                summary=summary,
                body=_document_body(rng, dept_name, title, summary),
                tags=tags,
                category=rng.choice(["政务公开", "内部管理", DEPT_THEME[code]]),
                grade="一般",
                frequency=Resource.Frequency.NEVER,
            )
            _lifecycle(when, axis, spec, _catalog_time(when, axis), drafted=0.2)
            specs.append(spec)
        for title, tags in _take(data.NOTICES.get(code, []), scale):
            created = axis.days(when.uniform(5, WORKING_DAYS - 0.5))
            spec = Spec(
                dept=code,
                kind=Resource.Kind.NOTICE,
                title=title,
                summary=f"{dept_name}发布：{title}。",
                body=_notice_body(rng, dept_name, title, axis.day_of(created)),
                tags=tags,
                category="政务公开",
                grade="一般",
                frequency=Resource.Frequency.NEVER,
            )
            _lifecycle(when, axis, spec, created, drafted=0.2)
            specs.append(spec)
        for project, milestones in data.PROJECTS.get(code, {}).items():
            total = len(data.PROJECTS[code][project])
            begins = when.uniform(10, 80)
            stride = (WORKING_DAYS - 2 - begins) / total
            for step, milestone in enumerate(_take(milestones, scale), start=1):
                spec = Spec(
                    dept=code,
                    kind=Resource.Kind.PROGRESS,
                    title=f"{project}项目进展（{step}）：{milestone}",
                    summary=milestone + "。",
                    body=_progress_body(rng, project, milestone, step, total),
                    tags=[project, DEPT_TAG[code]] if len(project) <= 20 else [DEPT_TAG[code]],
                    category="内部管理",
                    grade="一般",
                    project=project,
                    frequency=Resource.Frequency.WEEKLY,
                )
                _lifecycle(when, axis, spec, axis.days(begins + stride * (step - 1 + when.uniform(0.2, 0.9))))
                specs.append(spec)
        for title, url, summary, tags in _take(data.LINKS.get(code, []), scale):
            spec = Spec(
                dept=code,
                kind=Resource.Kind.LINK,
                title=title,
                summary=summary,
                body=f"系统地址：<{url}>\n\n{summary}\n\n账号开通请联系{dept_name}资源管理员。\n",
                tags=tags,
                link_url=url,
                category="政务公开",
                frequency=Resource.Frequency.NEVER,
            )
            _lifecycle(when, axis, spec, _catalog_time(when, axis), drafted=0.0)
            specs.append(spec)

    # Periodic reports, statistics and circulars: which ones exist depends on the seed; the periods they
    # cover are the ones that ended before the day of loading.
    periods = _report_periods(axis.today)
    combos = [
        (code, topic, slot) for code in codes for topic in data.REPORT_TOPICS[code] for slot in range(REPORT_SLOTS)
    ]
    count = min(len(combos), round(GENERATED_REPORTS * min(scale, 1.0)))
    for code, topic, slot in sorted(rng.sample(combos, count), key=combos.index):
        year, period, last_day = periods[slot]
        others = [c for c in codes if c != code]
        dept_name = names[code]
        kind = rng.choices([Resource.Kind.DOCUMENT, Resource.Kind.DATASET, Resource.Kind.NOTICE], weights=[65, 20, 15])[
            0
        ]
        sharing = _sharing(rng, others)
        tags = [DEPT_TAG[code], f"{year}年"]
        created = _after_period(when, axis, last_day)
        roll = rng.random()
        status = (
            Resource.Status.DRAFT
            if roll < 0.06
            else Resource.Status.ARCHIVED
            if roll < 0.14 or (slot < 4 and roll < 0.4)
            else Resource.Status.PUBLISHED
        )
        if axis.day_of(created) <= last_day:  # the period ended on the history's last day: still being written
            status = Resource.Status.DRAFT
        if status == Resource.Status.DRAFT:  # drafts are the ones still being written
            created = max(created, axis.end - axis.days(when.uniform(0.3, 30)))
        if kind == Resource.Kind.DATASET:
            title = f"{topic}统计数据（{year}年{period}）"
            summary = f"{dept_name}{year}年{period}{topic}相关指标的统计数据。"
            fields = [
                {"name": "indicator", "type": "text", "description": "指标名称", "sensitivity": "public"},
                {"name": "district", "type": "text", "description": "区县", "sensitivity": "public"},
                {"name": "value", "type": "decimal", "description": "指标值", "sensitivity": "internal"},
                {"name": "yoy_change", "type": "decimal", "description": "同比变化（%）", "sensitivity": "internal"},
            ]
            body = _dataset_body(rng, dept_name, title, summary, fields)
            frequency = Resource.Frequency.QUARTERLY if period != PERIODS[4] else Resource.Frequency.YEARLY
        elif kind == Resource.Kind.NOTICE:
            title = f"关于{year}年{period}{topic}情况的通报"
            summary = f"通报{year}年{period}{topic}的总体情况、存在问题和工作要求。"
            fields, frequency = [], Resource.Frequency.NEVER
            body = _notice_body(rng, dept_name, title, axis.day_of(created))
        else:
            title = f"{year}年{period}{topic}分析报告"
            summary = f"分析{year}年{period}{topic}的主要指标、变化原因和下一步工作建议。"
            fields, body, frequency = [], _document_body(rng, dept_name, title, summary), Resource.Frequency.NEVER
        spec = Spec(
            dept=code,
            kind=kind,
            title=title,
            summary=summary,
            body=body,
            tags=tags,
            sharing_type=sharing["sharing_type"],
            conditions=sharing.get("conditions", ""),
            restriction_basis=sharing.get("restriction_basis", ""),
            scope=sharing.get("scope"),
            frequency=frequency,
            category=DEPT_THEME[code],
            grade=_grade(rng, sharing["sharing_type"]),
            fields=fields,
            status=status,
            covers=last_day,
        )
        _lifecycle(when, axis, spec, created)
        specs.append(spec)
    return specs


# --------------------------------------------------------------------------------------------- load


def load(
    seed: int = 42,
    scale: float = 1.0,
    progress: Callable[[int], None] | None = None,
    now: datetime | None = None,
) -> Summary:
    """Create the whole demo, history included, in one transaction. `progress(n)` is called as
    resources are made. `now` is the moment of loading (default: the real time); the history ends on
    the working day before its day, and the background sweep runs at `now` last, so grants and
    deadlines are in the state they would be in at that moment."""
    now = now or timezone.now()
    axis = WorkingTime(WorkingTime.day_of_moment(now))
    specs = plan(seed, scale, axis.today)
    with transaction.atomic():
        clock = Clock(axis.moment(0))
        with frozen_time(clock):
            loader = _Loader(seed, scale, axis, progress)
            calendar = _load_calendar(loader.admin, axis)
            loader.schedule(specs)
            loader.timeline.run(clock)
            clock.set(now)
            access.sweep()
            stewards = {code: loader.roles[code]["managers"][0] for code in ("SWJ", "SBZX", "WJW")}
            loaded = records.load(loader.made, stewards, seed, scale, now)
        rebuild_index()  # once for the whole catalog, rather than once per change as the log is read
    summary = _summary(axis, now, loader.attachments)
    summary.records = loaded
    summary.calendar = calendar
    return summary


def _load_calendar(admin: User, axis: WorkingTime) -> dict[int, int | str]:
    """The admin loads the official holidays and 调休 days of the history's years and the next one, when
    the catalog goes live, so that the history's deadlines skip them. A year the installed chinesecalendar
    does not have yet is left out, with the reason."""
    loaded: dict[int, int | str] = {}
    for year in range(axis.first_day.year, axis.today.year + 2):
        try:
            with translation.override("en"):  # the reason is for the console summary, in English as the rest
                result = access.load_official_year(admin, year)
        except Invalid as error:
            loaded[year] = str(error.fields.get("year", error.message))
        else:
            loaded[year] = result.added + result.changed + result.kept
    return loaded


def _load_org() -> dict[str, User]:
    password = make_password(data.PASSWORD)  # hashed once: 50 people share the demo password

    def person(actor, username, display, **roles):
        user = org.create_person(actor, username=username, display_name=display, **roles)
        user.password = password
        user.save(update_fields=["password"])
        return user

    admin = person(None, *data.ADMIN, is_org_admin=True)
    org.set_superuser(None, admin, True)  # the demo's admin opens Django's admin too, as `createadmin` makes one
    people = {admin.username: admin}
    departments: dict[str, Department] = {}
    for code, name, parent, description in data.DEPARTMENTS:
        departments[code] = org.create_department(
            admin, name=name, code=code, parent=departments[parent] if parent else None, description=description
        )
    people[data.AUDITOR[0]] = person(admin, *data.AUDITOR, is_auditor=True)
    for username, display, memberships in data.PEOPLE:
        user = person(admin, username, display)
        user.email = f"{username}@gov.example.cn"
        user.save(update_fields=["email"])
        for code, role in memberships.items():
            org.set_membership(admin, user, departments[code], role)
        people[username] = user
    for username, display, code in data.SERVICE_ACCOUNTS:
        people[username] = org.create_service_account(
            admin, department=departments[code], username=username, display_name=display
        )
    return people


def _load_categories() -> dict[str, Category]:
    out = {}
    for root_name, children in data.CATEGORIES.items():
        root, _made = Category.objects.get_or_create(parent=None, name=root_name)
        out[root_name] = root
        for position, name in enumerate(children):
            out[name] = Category.objects.get_or_create(parent=root, name=name, defaults={"position": position})[0]
    return out


def _roles(departments: dict[str, Department]) -> dict[str, dict[str, list[User]]]:
    """department code -> {"managers": [...], "members": [...]} in a stable order."""
    out: dict[str, dict[str, list[User]]] = {code: {"managers": [], "members": []} for code in departments}
    for m in Membership.objects.select_related("user", "department").order_by("department__code", "user__username"):
        if m.user.is_service:
            continue
        key = "managers" if m.role in (Membership.Role.STEWARD, Membership.Role.HEAD) else "members"
        out[m.department.code][key].append(m.user)
    return out


MEMBERSHIPS = {username: list(memberships) for username, _display, memberships in data.PEOPLE}  # home first
_PARENTS = {code: parent for code, _name, parent, _description in data.DEPARTMENTS}


def _lineage(code: str | None) -> set[str]:
    out = set()
    while code:
        out.add(code)
        code = _PARENTS[code]
    return out


LINEAGE = {username: set().union(*map(_lineage, codes)) for username, codes in MEMBERSHIPS.items()}

RELATED = [
    ("纳税人登记信息", ["社保缴费基数核定结果", "企业营业执照登记信息", "税务与社保数据交换接口规范"]),
    ("社保缴费基数核定结果", ["企业职工工资薪金所得个税申报汇总", "社保缴费基数核定工作规程"]),
    ("企业营业执照登记信息", ["市场主体变更登记记录", "电子营业执照跨部门应用指南"]),
    ("大型医疗设备闲置时段共享清单", ["大型设备对外共享使用管理办法", "大型设备共享预约系统"]),
]

# How requests end, in the order they are planned (a smaller demo keeps the first ones). "answered":
# more information asked and given, then approved; "late": decided after the deadline, once the sweep
# has escalated it; "overdue": still undecided past its deadline.
NAMED_OUTCOMES = ("active", "active", "active", "expiring", "expired", "active", "revoked")
# fmt: off
OUTCOMES = (
    "expired", "active", "rejected", "ending", "revoked", "pending", "info_open", "expired", "withdrawn", "overdue",
    "active", "answered", "late", "expired", "rejected", "active", "expiring", "pending", "revoked", "expired",
    "active", "answered", "rejected", "expired", "active", "withdrawn", "expiring", "expired", "active", "answered",
    "expired", "rejected", "active", "pending", "expired", "revoked",
)
# fmt: on
APPROVED = {"active", "expired", "ending", "expiring", "revoked", "answered", "late"}
# Days from the day of loading to the end of the grant, by outcome: "ending" within the week in which
# grantees are warned, "expiring" in the weeks after.
EXPIRY_DAYS = {
    "active": (30, 240),
    "expired": (-260, -5),
    "ending": (1, 5),
    "expiring": (8, 27),
    "revoked": (-120, 200),
    "answered": (-150, 200),
    "late": (-150, 200),
}
PERIOD_DAYS = (30, 90, 180, 365)
# The log readers that turn events into notifications (registered as such by the feeds app), run on
# their own during the history: the other reader, search indexing, would index once per event.
NOTIFICATIONS = consumers.Consumer("notifications", feeds.notify_from_event)
FOLLOWS = consumers.Consumer("follows", follows.notify_followers, accepts=follows.wants)


@dataclass
class _Request:
    """One planned access request: who asks for what, how it ends, and the randomness its steps draw on."""

    spec: Spec
    requester: User
    for_department: Department | None
    purpose: str
    use: str
    asked_days: int
    granted_days: int
    fields: list[str]
    granted_fields: list[str] | None
    outcome: str
    picks: random.Random
    request: AccessRequest | None = None
    grant: Grant | None = None


class _Loader:
    """Creates the organization at the start of the history, then schedules every later step on a
    timeline; each step calls the services as the person doing it would."""

    def __init__(self, seed: int, scale: float, axis: WorkingTime, progress: Callable[[int], None] | None):
        self.axis = axis
        self.seed = seed
        self.scale = min(scale, 1.0)
        self.progress = progress
        self.rng = random.Random(seed + 1)  # who does what, drawn as the steps run (in the order of time)
        self.when = random.Random(seed * 7919 + 2)  # times of requests, reads and relations
        self.people = _load_org()
        self.admin = self.people[data.ADMIN[0]]
        self.departments = {d.code: d for d in Department.objects.all()}
        self.categories = _load_categories()
        self.grades = {g.name: g for g in DataGrade.objects.all()}
        self.projects: dict[tuple[str, str], Project] = {}
        self.roles = _roles(self.departments)
        self.made: dict[str, Resource] = {}
        self.attachments = 0
        self.timeline = Timeline(axis)

    # ---- scheduling

    def schedule(self, specs: list[Spec]) -> None:
        at = self.timeline.at
        for spec in specs:
            at(spec.created, partial(self._create, spec))
            if spec.published is not None:
                at(spec.published, partial(self._publish, spec))
            for number, x in enumerate(spec.edits, start=1):
                at(x, partial(self._edit, spec, number))
            if spec.archived is not None:
                at(spec.archived, partial(self._archive, spec))
        by_title = {spec.title: spec for spec in specs}
        self._schedule_attachments(by_title)
        self._schedule_relations(by_title)
        self._schedule_requests(specs, by_title)
        self._schedule_owner_reads(specs)
        day = self.axis.first_day + timedelta(days=1)  # the worker's daily round, from the day after launch
        while day < self.axis.today:
            self.timeline.at_moment(self.axis.morning(day), self._daily_round)
            day += timedelta(days=1)
        self._schedule_catch_ups()
        knowledge.KnowledgeLoader(self.timeline, self.axis, self.seed).schedule()

    def _soon_after(self, x: float, working_days: tuple[float, float]) -> float:
        return min(x + self.axis.days(self.when.uniform(*working_days)), self.axis.end - self.when.uniform(1, 60))

    def _schedule_attachments(self, by_title: dict[str, Spec]) -> None:
        for number, (title, filename) in enumerate(data.ATTACHMENTS):
            spec = by_title.get(title)
            if spec is not None:
                self.timeline.at(
                    self._soon_after(spec.available, (0.01, 0.1)), partial(self._attach, spec, filename, number)
                )

    def _schedule_relations(self, by_title: dict[str, Spec]) -> None:
        for title, related in RELATED:
            present = [by_title[t] for t in [title, *related] if t in by_title]
            if title in by_title and len(present) > 1:
                x = self._soon_after(max(s.available for s in present), (1, 15))
                self.timeline.at(x, partial(self._relate, title, [s.title for s in present[1:]]))

    def _schedule_owner_reads(self, specs: list[Spec]) -> None:
        """People of the owner department open their own closed content now and then: audited too."""
        for spec in specs:
            if spec.sharing_type == Resource.SharingType.OPEN or spec.status != Resource.Status.PUBLISHED:
                continue
            if self.when.random() < 0.3:
                for _ in range(self.when.randint(1, 2)):
                    x = self.when.uniform(spec.available, self.axis.end - 1)
                    self.timeline.at(x, partial(self._owner_read, spec, self.when.random()))

    def _schedule_catch_ups(self) -> None:
        """Everyone opens their notifications every few working days and so reads what had come in;
        what came in over the last few days is still unread when the history ends."""
        for person in [p for p in self.people.values() if not p.is_service]:
            x = self.axis.days(self.when.uniform(1, 6))
            while x < self.axis.end - self.axis.days(3):
                self.timeline.at(x, partial(feeds.mark_read, person))
                x += self.axis.days(self.when.uniform(2, 10))

    # ---- requests

    def _requesters(self, spec: Spec) -> list[User]:
        """People outside the owner who see the entry: its scope covers one of their departments or
        an ancestor of one."""
        return [
            self.people[username]
            for username, codes in MEMBERSHIPS.items()
            if spec.dept not in codes and (spec.scope is None or LINEAGE[username] & set(spec.scope))
        ]

    def _schedule_requests(self, specs: list[Spec], by_title: dict[str, Spec]) -> None:
        candidates = [
            s
            for s in specs
            if s.sharing_type == Resource.SharingType.CONDITIONAL and s.status == Resource.Status.PUBLISHED
        ]
        if not candidates:
            return
        used: set[tuple[str, str]] = set()
        for (title, _owner, (kind, grantee), purpose, days), outcome in zip(data.GRANTS, NAMED_OUTCOMES, strict=True):
            spec = by_title.get(title)
            if spec is None or spec not in candidates:
                continue
            if kind == "user":
                requester, department = self.people[grantee], None
            else:
                side = self.roles[grantee]
                outsiders = [p for p in side["members"] + side["managers"] if p in self._requesters(spec)]
                if not outsiders:
                    continue
                requester, department = outsiders[0], self.departments[grantee]
            planned = self._plan_request(spec, requester, department, outcome, (purpose, "verification"), days)
            if planned:
                used.add((title, department.code if department else requester.username))
        for outcome in OUTCOMES[: max(12, round(len(OUTCOMES) * self.scale))]:
            for spec in self.when.sample(candidates, len(candidates)):
                people = [p for p in self._requesters(spec) if (spec.title, p.username) not in used]
                if not people:
                    continue
                requester = self.when.choice(people)
                department = None
                if spec.kind == Resource.Kind.DATASET and self.when.random() < 0.5:
                    home = self.departments[next(iter(MEMBERSHIPS[requester.username]))]
                    if (spec.title, home.code) in used:
                        continue
                    department = home
                reason = self.when.choice(data.REQUEST_PURPOSES)
                if self._plan_request(spec, requester, department, outcome, reason, None):
                    used.add((spec.title, requester.username))
                    if department is not None:
                        used.add((spec.title, department.code))
                    break

    def _plan_request(
        self,
        spec: Spec,
        requester: User,
        department: Department | None,
        outcome: str,
        reason: tuple[str, str],
        days: int | None,
    ) -> bool:
        """Fit a request with this outcome on the timeline, if the resource was out long enough;
        schedule its steps and return True, or return False."""
        axis, when = self.axis, self.when
        periods = [d for d in PERIOD_DAYS if d <= spec.max_grant_days]
        if days is not None:
            periods = [min(days, spec.max_grant_days)]
        fields = [f["name"] for f in spec.fields if f["sensitivity"] != "secret"]
        earliest = spec.available + axis.days(2)
        latest = axis.end - axis.days(0.3)
        for granted in when.sample(periods, len(periods)) * 3:  # three draws of the times for each period
            times = self._request_times(outcome, granted, earliest, latest)
            if times is None:
                continue
            narrower = [d for d in PERIOD_DAYS if granted < d <= spec.max_grant_days]
            narrowed = outcome in APPROVED and days is None and when.random() < 0.25
            plan = _Request(
                spec=spec,
                requester=requester,
                for_department=department,
                purpose=reason[0],
                use=reason[1],
                asked_days=narrower[0] if narrowed and narrower else granted,
                granted_days=granted,
                fields=fields,
                granted_fields=[f["name"] for f in spec.fields if f["sensitivity"] == "public"] if narrowed else None,
                outcome=outcome,
                picks=random.Random(when.getrandbits(32)),
            )
            if plan.granted_fields is not None and not (plan.granted_fields and len(plan.granted_fields) < len(fields)):
                plan.granted_fields = None
            self._schedule_request(plan, times)
            return True
        return False

    def _request_times(self, outcome: str, granted: int, earliest: float, latest: float) -> dict | None:
        """Positions of the request's steps for this outcome, or None when they do not fit."""
        axis, when = self.axis, self.when
        days = axis.days
        if outcome in APPROVED:
            if outcome == "answered":
                lags = [days(when.uniform(0.3, 2)), days(when.uniform(0.3, 3)), days(when.uniform(0.3, 3))]
            elif outcome == "late":
                lags = [days(when.uniform(11, 13.5))]
            else:
                lags = [days(when.uniform(0.3, 6))]
            ends_in = round(when.uniform(*EXPIRY_DAYS[outcome]))
            decided_day = axis.today + timedelta(days=ends_in - granted)
            if not axis.first_day <= decided_day < axis.today:
                return None
            decided = axis.at_date(decided_day) + when.uniform(20, DAY_MINUTES - 20)
            asked = decided - sum(lags)
            if asked < earliest or decided > latest:
                return None
            steps = [asked]
            for lag in lags:
                steps.append(steps[-1] + lag)
            expires = axis.moment(decided) + timedelta(days=granted)
            usable = min(axis.end, axis.at_date(expires.astimezone(axis.zone).date()) - DAY_MINUTES)
            out = {"asked": asked, "steps": steps[1:], "decided": decided, "usable": usable}
            if outcome == "revoked":
                if usable - decided < days(3):
                    return None
                out["revoked"] = decided + (usable - decided) * when.uniform(0.3, 0.8)
                out["usable"] = out["revoked"]
            return out
        if outcome in ("rejected", "withdrawn"):
            if latest - days(8) <= earliest:
                return None
            asked = when.uniform(earliest, latest - days(8))
            return {"asked": asked, "steps": [asked + days(when.uniform(0.3, 6))]}
        back = {"pending": (0.05, 5), "info_open": (6, 14), "overdue": (12.5, 17)}[outcome]
        asked = axis.end - days(when.uniform(*back))
        if asked < earliest:
            return None
        steps = [asked + days(when.uniform(0.3, 3))] if outcome == "info_open" else []
        return {"asked": asked, "steps": steps}

    def _schedule_request(self, plan: _Request, times: dict) -> None:
        at = self.timeline.at
        at(times["asked"], partial(self._request, plan))
        steps = times["steps"]
        outcome = plan.outcome
        if outcome == "answered":
            at(steps[0], partial(self._ask, plan))
            at(steps[1], partial(self._answer, plan))
            at(steps[2], partial(self._approve, plan))
        elif outcome in APPROVED:
            at(steps[0], partial(self._approve, plan))
        elif outcome == "rejected":
            at(steps[0], partial(self._reject, plan))
        elif outcome == "withdrawn":
            at(steps[0], partial(self._withdraw, plan))
        elif outcome == "info_open":
            at(steps[0], partial(self._ask, plan))
        if "revoked" in times:
            at(times["revoked"], partial(self._revoke, plan))
        if outcome in APPROVED and times["usable"] > times["decided"]:
            reads = sorted(self.when.uniform(times["decided"], times["usable"]) for _ in range(self.when.randint(1, 5)))
            for x in reads:
                at(x, partial(self._grantee_read, plan))

    # ---- steps

    @staticmethod
    def _daily_round() -> None:
        """What the worker does: the access sweep, and notifications from the log (the search index is
        rebuilt once at the end instead)."""
        access.sweep()
        consumers.run_consumer(NOTIFICATIONS)
        consumers.run_consumer(FOLLOWS)

    def _create(self, spec: Spec) -> None:
        rng, owner = self.rng, self.departments[spec.dept]
        managers = self.roles[spec.dept]["managers"]
        members = self.roles[spec.dept]["members"] or managers
        publish = spec.status != Resource.Status.DRAFT and spec.published is None
        author = rng.choice(managers) if publish else rng.choice(members)
        fields: dict = {
            "title": spec.title,
            "summary": spec.summary,
            "body": spec.body,
            "tags": spec.tags,
            "update_frequency": spec.frequency,
            "sharing_type": spec.sharing_type,
            "conditions": spec.conditions,
            "restriction_basis": spec.restriction_basis,
            "steward": rng.choice(managers),
        }
        if spec.sharing_type == Resource.SharingType.CONDITIONAL:
            fields["max_grant_days"] = spec.max_grant_days
        if spec.scope:
            fields["scope_all"] = False
            fields["scope_departments"] = [self.departments[c] for c in spec.scope]
        if spec.category:
            fields["category"] = self.categories[spec.category]
        if spec.grade:
            fields["data_grade"] = self.grades.get(spec.grade)
        if spec.fields:
            fields["dataset_fields"] = spec.fields
        if spec.link_url:
            fields["link_url"] = spec.link_url
        if spec.project:
            key = (spec.dept, spec.project)
            if key not in self.projects:
                self.projects[key] = Project.objects.get_or_create(
                    department=owner,
                    name=spec.project,
                    defaults={"description": f"{owner.name}牵头的{spec.project}项目"},
                )[0]
            fields["project"] = self.projects[key]
        self.made[spec.title] = catalog.create_resource(
            author, owner_department=owner, kind=spec.kind, publish=publish, **fields
        )
        if self.progress:
            self.progress(1)

    def _publish(self, spec: Spec) -> None:
        steward = self.rng.choice(self.roles[spec.dept]["managers"])
        self.made[spec.title] = catalog.transition(steward, self.made[spec.title], "publish")

    def _edit(self, spec: Spec, number: int) -> None:
        roles = self.roles[spec.dept]
        editor = self.rng.choice(roles["members"] + roles["managers"])
        note = self.rng.choice(data.EDIT_NOTES)
        resource = self.made[spec.title]
        changes = {
            "body": resource.body + f"\n\n> 更新说明（{number}）：{note}；{self.rng.choice(data.NEXT_STEPS)}。\n"
        }
        if number == 1:
            changes["summary"] = resource.summary + "（已根据使用部门反馈补充说明）"
        self.made[spec.title] = catalog.update_resource(editor, resource, changes, note=note)

    def _archive(self, spec: Spec) -> None:
        steward = self.rng.choice(self.roles[spec.dept]["managers"])
        self.made[spec.title] = catalog.transition(steward, self.made[spec.title], "archive")

    def _attach(self, spec: Spec, filename: str, number: int) -> None:
        resource = self.made[spec.title]
        author = self.roles[spec.dept]["managers"][0]
        text = (
            f"# {spec.title}：{filename.rsplit('.', 1)[0]}\n\n"
            f"本文件为《{spec.title}》的附件，由{resource.owner_department.name}提供。\n\n"
            f"- 资源编码：{resource.code}\n- 联系人：{author.display_name}\n\n"
            f"{data.SHARING_NOTES[number % len(data.SHARING_NOTES)]}\n"
        )
        catalog.add_attachment(author, resource, filename, [text.encode("utf-8")])
        self.attachments += 1

    def _relate(self, title: str, related: list[str]) -> None:
        others = [self.made[t] for t in related]
        self.made[title] = catalog.update_resource(
            self.admin, self.made[title], {"related": others}, note="关联相关资源"
        )

    def _owner_read(self, spec: Spec, pick: float) -> None:
        roles = self.roles[spec.dept]
        people = roles["members"] + roles["managers"]
        reader = people[int(pick * len(people))]
        catalog.note_content_read(reader, [self.made[spec.title]], via="page")

    def _request(self, plan: _Request) -> None:
        resource = self.made[plan.spec.title]
        if not can(plan.requester, ProcessAction.REQUEST, resource):
            return  # the entry changed in the meantime: this request was never made
        plan.request = access.create_request(
            plan.requester,
            resource,
            purpose=plan.purpose,
            use_category=plan.use,
            period_days=plan.asked_days,
            accept_terms=True,
            for_department=plan.for_department,
            fields=plan.fields,
        )

    def _decider(self, plan: _Request) -> User:
        managers = self.roles[plan.spec.dept]["managers"]
        return plan.picks.choice([m for m in managers if can(m, ProcessAction.DECIDE, plan.request)])

    def _ask(self, plan: _Request) -> None:
        if plan.request is not None:
            question = plan.picks.choice(data.INFO_QUESTIONS)
            plan.request = access.ask_for_information(self._decider(plan), plan.request, question=question)

    def _answer(self, plan: _Request) -> None:
        if plan.request is not None:
            answer = plan.picks.choice(data.INFO_ANSWERS)
            plan.request = access.give_information(plan.requester, plan.request, answer=answer)

    def _approve(self, plan: _Request) -> None:
        if plan.request is None:
            return
        options: dict = {}
        if plan.granted_days != plan.asked_days:
            options["period_days"] = plan.granted_days
        if plan.granted_fields is not None:
            options["fields"] = plan.granted_fields
        narrowed = "+".join(sorted(options))
        options["note"] = data.NARROWED_NOTES[narrowed] if narrowed else plan.picks.choice(data.APPROVAL_NOTES)
        request = access.approve_request(self._decider(plan), plan.request, **options)
        if request.status == AccessRequest.Status.PENDING_HEAD:
            request = access.approve_request(self._decider(plan), request)
        plan.request = request
        plan.grant = Grant.objects.filter(request=request).first()

    def _reject(self, plan: _Request) -> None:
        if plan.request is not None:
            reason = plan.picks.choice(data.REJECT_REASONS)
            plan.request = access.reject_request(self._decider(plan), plan.request, reason=reason)

    def _withdraw(self, plan: _Request) -> None:
        if plan.request is not None:
            plan.request = access.withdraw_request(plan.requester, plan.request)

    def _revoke(self, plan: _Request) -> None:
        if plan.grant is None:
            return
        managers = self.roles[plan.spec.dept]["managers"]
        steward = plan.picks.choice([m for m in managers if can(m, ProcessAction.REVOKE, plan.grant)])
        plan.grant = access.revoke_grant(steward, plan.grant, reason=plan.picks.choice(data.REVOKE_REASONS))

    def _grantee_read(self, plan: _Request) -> None:
        if plan.grant is None:
            return
        resource = self.made[plan.spec.title]
        reader = plan.requester
        if plan.grant.grantee_department_id:
            department = plan.for_department.code
            colleagues = [p for p in self._requesters(plan.spec) if department in MEMBERSHIPS[p.username]]
            reader = plan.picks.choice(colleagues or [plan.requester])
        if can(reader, Action.READ, resource):
            catalog.note_content_read(reader, [resource], via=plan.picks.choice(("page", "page", "page", "api")))


def _summary(axis: WorkingTime, now: datetime, attachments: int) -> Summary:
    qs = Resource.objects.all()
    grants = Grant.objects.all()
    return Summary(
        departments=Department.objects.count(),
        people=User.objects.filter(kind=User.Kind.PERSON).count(),
        service_accounts=User.objects.filter(kind=User.Kind.SERVICE).count(),
        resources=qs.count(),
        by_kind=dict(Counter(qs.values_list("kind", flat=True))),
        by_sharing=dict(Counter(qs.values_list("sharing_type", flat=True))),
        by_status=dict(Counter(qs.values_list("status", flat=True))),
        versions=ResourceVersion.objects.count(),
        attachments=Attachment.objects.count(),
        grants=grants.count(),
        projects=Project.objects.count(),
        events=Event.objects.count(),
        history_from=axis.first_day,
        history_to=axis.dates[-1],
        requests=dict(Counter(AccessRequest.objects.values_list("status", flat=True))),
        grant_states={
            "active": grants.filter(revoked_at__isnull=True, valid_until__gt=now).count(),
            "expired": grants.filter(revoked_at__isnull=True, valid_until__lte=now).count(),
            "revoked": grants.filter(revoked_at__isnull=False).count(),
        },
    )
