"""Load the demo organization through the services, so codes, versions and events are real.

`plan(seed, scale)` decides every resource up front from `random.Random(seed)`; `load` then
creates the organization and the planned resources in one transaction. The same seed gives the
same departments, people and resources.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction

from sharehub.access import services as access
from sharehub.access.models import AccessRequest, Grant
from sharehub.catalog import services as catalog
from sharehub.catalog.models import Attachment, Category, DataGrade, Project, Resource, ResourceVersion
from sharehub.demo import data
from sharehub.events.models import Event
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import can

YEARS = (2023, 2024, 2025)
PERIODS = ("第一季度", "第二季度", "第三季度", "第四季度", "全年")
GENERATED_REPORTS = 184  # curated entries are about 116; together about 300
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
    """One planned resource."""

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
    status: str = Resource.Status.PUBLISHED
    edit: bool = False


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


def _notice_body(rng: random.Random, dept_name: str, title: str, year: int | None = None) -> str:
    year = year or rng.choice(YEARS)
    month, day = rng.randint(1, 12), rng.randint(1, 28)
    return (
        f"各有关单位：\n\n为做好相关工作，现将有关事项通知如下：\n\n"
        f"一、**工作要求**。各单位要高度重视，明确专人负责，于{month}月{day}日前完成相关工作。\n\n"
        f"二、**信息报送**。请通过 Sharehub 平台报送相关材料，{rng.choice(data.SHARING_NOTES)}\n\n"
        f"三、**联系方式**。具体事宜请联系{dept_name}资源管理员。\n\n"
        f"{dept_name}\n\n{year}年{month}月{day}日\n"
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


def plan(seed: int = 42, scale: float = 1.0) -> list[Spec]:
    """Every resource of the demo, decided from the seed. `scale` < 1 makes a smaller demo for tests."""
    rng = random.Random(seed)
    names = {code: name for code, name, *_rest in data.DEPARTMENTS}
    codes = list(names)
    specs: list[Spec] = []

    for code in codes:
        others = [c for c in codes if c != code]
        dept_name = names[code]
        for item in _take(data.DATASETS.get(code, []), scale):
            kind_sharing, text = item["sharing"]
            fields = [{"name": n, "type": t, "description": d, "sensitivity": s} for n, t, d, s in item["fields"]]
            specs.append(
                Spec(
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
            )
        for title, summary, tags in _take(data.DOCUMENTS.get(code, []), scale):
            specs.append(
                Spec(
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
            )
        for title, tags in _take(data.NOTICES.get(code, []), scale):
            specs.append(
                Spec(
                    dept=code,
                    kind=Resource.Kind.NOTICE,
                    title=title,
                    summary=f"{dept_name}发布：{title}。",
                    body=_notice_body(rng, dept_name, title),
                    tags=tags,
                    category="政务公开",
                    grade="一般",
                    frequency=Resource.Frequency.NEVER,
                )
            )
        for project, milestones in data.PROJECTS.get(code, {}).items():
            milestones = _take(milestones, scale)
            for step, milestone in enumerate(milestones, start=1):
                specs.append(
                    Spec(
                        dept=code,
                        kind=Resource.Kind.PROGRESS,
                        title=f"{project}项目进展（{step}）：{milestone}",
                        summary=milestone + "。",
                        body=_progress_body(rng, project, milestone, step, len(data.PROJECTS[code][project])),
                        tags=[project, DEPT_TAG[code]] if len(project) <= 20 else [DEPT_TAG[code]],
                        category="内部管理",
                        grade="一般",
                        project=project,
                        frequency=Resource.Frequency.WEEKLY,
                    )
                )
        for title, url, summary, tags in _take(data.LINKS.get(code, []), scale):
            specs.append(
                Spec(
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
            )

    # Periodic reports, statistics and circulars: which ones exist depends on the seed.
    combos = [
        (code, topic, year, period)
        for code in codes
        for topic in data.REPORT_TOPICS[code]
        for year in YEARS
        for period in PERIODS
    ]
    count = min(len(combos), round(GENERATED_REPORTS * min(scale, 1.0)))
    for code, topic, year, period in sorted(rng.sample(combos, count), key=combos.index):
        others = [c for c in codes if c != code]
        dept_name = names[code]
        kind = rng.choices([Resource.Kind.DOCUMENT, Resource.Kind.DATASET, Resource.Kind.NOTICE], weights=[65, 20, 15])[
            0
        ]
        sharing = _sharing(rng, others)
        tags = [DEPT_TAG[code], f"{year}年"]
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
            frequency = Resource.Frequency.QUARTERLY if period != "全年" else Resource.Frequency.YEARLY
        elif kind == Resource.Kind.NOTICE:
            title = f"关于{year}年{period}{topic}情况的通报"
            summary = f"通报{year}年{period}{topic}的总体情况、存在问题和工作要求。"
            fields, body, frequency = [], _notice_body(rng, dept_name, title, year), Resource.Frequency.NEVER
        else:
            title = f"{year}年{period}{topic}分析报告"
            summary = f"分析{year}年{period}{topic}的主要指标、变化原因和下一步工作建议。"
            fields, body, frequency = [], _document_body(rng, dept_name, title, summary), Resource.Frequency.NEVER
        roll = rng.random()
        status = (
            Resource.Status.DRAFT
            if roll < 0.06
            else Resource.Status.ARCHIVED
            if roll < 0.14 or (year == 2023 and roll < 0.4)
            else Resource.Status.PUBLISHED
        )
        specs.append(
            Spec(
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
            )
        )

    for spec in specs:
        if spec.status != Resource.Status.DRAFT and rng.random() < 0.12:
            spec.edit = True
    return specs


# --------------------------------------------------------------------------------------------- load


def load(seed: int = 42, scale: float = 1.0, progress: Callable[[int], None] | None = None) -> Summary:
    """Create the whole demo in one transaction. `progress(n)` is called as resources are made."""
    specs = plan(seed, scale)
    with transaction.atomic():
        people = _load_org()
        admin = people[data.ADMIN[0]]
        departments = {d.code: d for d in Department.objects.all()}
        categories = _load_categories()
        grades = {g.name: g for g in DataGrade.objects.all()}
        projects: dict[tuple[str, str], Project] = {}
        roles = _roles(departments)
        rng = random.Random(seed + 1)
        made: dict[str, Resource] = {}
        for spec in specs:
            made[spec.title] = _create(rng, spec, departments, people, roles, categories, grades, projects, admin)
            if progress:
                progress(1)
        _relate(admin, made)
        attachments = _attach(roles, made)
        grants = _grant(roles, departments, people, made)
    return _summary(len(specs), attachments, grants)


def _load_org() -> dict[str, User]:
    password = make_password(data.PASSWORD)  # hashed once: 50 people share the demo password

    def person(actor, username, display, **roles):
        user = org.create_person(actor, username=username, display_name=display, **roles)
        user.password = password
        user.save(update_fields=["password"])
        return user

    admin = person(None, *data.ADMIN, is_org_admin=True)
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


def _create(rng, spec: Spec, departments, people, roles, categories, grades, projects, admin) -> Resource:
    owner = departments[spec.dept]
    managers = roles[spec.dept]["managers"]
    members = roles[spec.dept]["members"] or managers
    author = rng.choice(members) if spec.status == Resource.Status.DRAFT else rng.choice(managers)
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
    if spec.scope:
        fields["scope_all"] = False
        fields["scope_departments"] = [departments[c] for c in spec.scope]
    if spec.category:
        fields["category"] = categories[spec.category]
    if spec.grade:
        fields["data_grade"] = grades.get(spec.grade)
    if spec.fields:
        fields["dataset_fields"] = spec.fields
    if spec.link_url:
        fields["link_url"] = spec.link_url
    if spec.project:
        key = (spec.dept, spec.project)
        if key not in projects:
            projects[key] = Project.objects.get_or_create(
                department=owner, name=spec.project, defaults={"description": f"{owner.name}牵头的{spec.project}项目"}
            )[0]
        fields["project"] = projects[key]
    resource = catalog.create_resource(
        author,
        owner_department=owner,
        kind=spec.kind,
        publish=spec.status != Resource.Status.DRAFT,
        **fields,
    )
    if spec.edit:
        editor = rng.choice(members)
        resource = catalog.update_resource(
            editor,
            resource,
            {
                "summary": spec.summary + "（已根据使用部门反馈补充说明）",
                "body": spec.body + f"\n\n> 更新说明：{rng.choice(data.NEXT_STEPS)}。\n",
            },
            note="根据使用部门反馈补充说明",
        )
    if spec.status == Resource.Status.ARCHIVED:
        resource = catalog.transition(rng.choice(managers), resource, "archive")
    return resource


def _relate(admin: User, made: dict[str, Resource]) -> None:
    pairs = [
        ("纳税人登记信息", ["社保缴费基数核定结果", "企业营业执照登记信息", "税务与社保数据交换接口规范"]),
        ("社保缴费基数核定结果", ["企业职工工资薪金所得个税申报汇总", "社保缴费基数核定工作规程"]),
        ("企业营业执照登记信息", ["市场主体变更登记记录", "电子营业执照跨部门应用指南"]),
        ("大型医疗设备闲置时段共享清单", ["大型设备对外共享使用管理办法", "大型设备共享预约系统"]),
    ]
    for title, related in pairs:
        if title not in made:
            continue
        others = [made[t] for t in related if t in made]
        if others:
            made[title] = catalog.update_resource(admin, made[title], {"related": others}, note="关联相关资源")


def _attach(roles, made: dict[str, Resource]) -> int:
    count = 0
    for title, filename in data.ATTACHMENTS:
        resource = made.get(title)
        if resource is None:
            continue
        author = roles[resource.owner_department.code]["managers"][0]
        text = (
            f"# {title}：{filename.rsplit('.', 1)[0]}\n\n"
            f"本文件为《{title}》的附件，由{resource.owner_department.name}提供。\n\n"
            f"- 资源编码：{resource.code}\n- 联系人：{author.display_name}\n\n"
            f"{data.SHARING_NOTES[count % len(data.SHARING_NOTES)]}\n"
        )
        catalog.add_attachment(author, resource, filename, [text.encode("utf-8")])
        count += 1
    return count


def _grant(roles, departments, people, made: dict[str, Resource]) -> int:
    """Grants come out of the real process: a request by someone of the grantee side, approved by a
    steward of the owner. A few more requests stay open (pending, asked for information) or are
    rejected, so the inboxes and "my requests" have something to show."""
    count = 0
    for title, _owner, (grantee_kind, grantee), purpose, days in data.GRANTS:
        resource = made.get(title)
        if resource is None:
            continue
        if grantee_kind == "user":
            requester, department = people[grantee], None
        else:
            side = roles[grantee]
            outsiders = [
                p
                for p in side["members"] + side["managers"]
                if not p.memberships.filter(department=resource.owner_department).exists()
            ]
            requester, department = outsiders[0], departments[grantee]
        if not can(requester, "request", resource):
            continue  # out of the resource's scope: such a grant cannot come from a request
        request = access.create_request(
            requester,
            resource,
            purpose=purpose,
            use_category="verification",
            period_days=min(days, resource.max_grant_days),
            accept_terms=True,
            for_department=department,
            fields=[f["name"] for f in resource.dataset_fields if f["sensitivity"] != "secret"],
        )
        steward = roles[resource.owner_department.code]["managers"][0]
        request = access.approve_request(steward, request, note="同意，按约定用途使用。")
        if request.status == "pending_head":
            head = roles[resource.owner_department.code]["managers"][0]
            access.approve_request(head, request)
        count += 1
    _open_requests(roles, people, made)
    return count


def _open_requests(roles, people, made: dict[str, Resource]) -> None:
    requested = {r.resource_id for r in AccessRequest.objects.all()}
    candidates = [
        r
        for r in made.values()
        if r.sharing_type == Resource.SharingType.CONDITIONAL
        and r.status == Resource.Status.PUBLISHED
        and r.pk not in requested
    ]
    plans = [
        ("hexue", "pending", "核定参保单位缴费基数时核验企业登记状态。"),
        ("xunuo", "info", "院内统计分析，用于年度工作报告。"),
        ("lvhan", "rejected", "课题研究需要。"),
        ("hexue", "pending", "比对参保人员信息，减少群众重复提交材料。"),
    ]
    for username, outcome, purpose in plans:
        requester = people[username]
        resource = next((r for r in candidates if can(requester, "request", r)), None)
        if resource is None:
            return
        candidates.remove(resource)
        request = access.create_request(
            requester, resource, purpose=purpose, use_category="verification", period_days=30, accept_terms=True
        )
        steward = roles[resource.owner_department.code]["managers"][0]
        if outcome == "info":
            access.ask_for_information(steward, request, question="请说明具体使用字段和数据保存期限。")
        elif outcome == "rejected":
            access.reject_request(steward, request, reason="用途与共享条件不符，请通过统计部门获取汇总数据。")


def _summary(resources: int, attachments: int, grants: int) -> Summary:
    qs = Resource.objects.all()
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
        grants=Grant.objects.count(),
        projects=Project.objects.count(),
        events=Event.objects.count(),
    )
