"""The knowledge side of the demo: articles in the departments' spaces, questions asked across departments
and answered (some accepted and turned into articles), comments, ratings and "this helped me" marks, and
sharing sessions (past ones rated, upcoming ones with sign-ups and a waiting list). Scheduled on the demo's
timeline and played through the same services as the pages, so events, notifications and recognition are
real."""

from __future__ import annotations

import random
from datetime import datetime, time, timedelta
from functools import partial

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.knowledge import articles, points, qa, sessions, social
from sharehub.knowledge.models import Question, Session
from sharehub.org.models import Department, User
from sharehub.policy.engine import Action, can

# department code, author, template, title, body (Markdown); an empty body starts from the template.
ARTICLES = [
    (
        "SWJ",
        "yangfan",
        "howto",
        "如何开具个人完税证明",
        "## 适用情形\n\n申请贷款、签证或落户时需要个人完税证明。\n\n## 步骤\n\n1. 登录电子税务局，进入“证明开具”。\n"
        "2. 选择“个人所得税纳税记录”，选择年度。\n3. 下载带电子签章的 PDF。\n\n## 常见问题\n\n"
        "- 没有收入记录的月份不显示。\n- 企业代扣的记录在次月 15 日后才能查到。\n",
    ),
    (
        "SWJ",
        "zhaomin",
        "faq",
        "纳税信用等级常见问题",
        "### 纳税信用等级每年什么时候评定？\n\n每年 4 月公布上一年度的评价结果。\n\n"
        "### 评为 D 级有什么影响？\n\n发票领用受限，出口退税从严审核，并推送给其他部门联合惩戒。\n",
    ),
    (
        "SBZX",
        "guomin",
        "howto",
        "社保缴费基数核定办理指南",
        "## 材料\n\n- 上年度职工工资总额表\n- 单位营业执照（统一社会信用代码）\n\n"
        "## 流程\n\n1. 每年 7 月前通过单位网厅申报。\n"
        "2. 系统比对税务局共享的纳税人登记信息，名称不一致的需要说明。\n3. 核定结果次月生效。\n",
    ),
    ("SBZX", "hexue", "lessons", "基数核定中单位名称不一致问题的复盘", ""),
    (
        "WJW",
        "tangyan",
        "howto",
        "患者就诊记录共享申请须知",
        "## 原则\n\n就诊记录属于敏感个人信息，只在患者本人同意的范围内共享。\n\n"
        "## 步骤\n\n1. 在目录中找到“患者就诊记录”，提交共享申请，写明用途。\n"
        "2. 资源管理员核对患者同意书后审批。\n3. 授权到期自动失效，可随时撤销。\n",
    ),
    ("CDC", "xiaoran", "minutes", "流感监测数据共享协调会纪要", ""),
    (
        "DSJ",
        "weiwei",
        "howto",
        "数据共享平台接口接入指南",
        "## 申请令牌\n\n在“API 令牌”页面为服务账号申请令牌，只授予需要的范围。\n\n## 调用\n\n"
        "```\ncurl -H 'Authorization: Bearer <令牌>' https://sharehub.example.cn/api/v1/resources\n```\n\n"
        "## 变更订阅\n\n通过回调（webhook）接收数据集变更，签名按 Standard Webhooks 校验。\n",
    ),
    (
        "DSJ",
        "dingning",
        "faq",
        "公共数据目录编制常见问题",
        "### 有条件共享和不予共享如何区分？\n\n涉及个人隐私或商业秘密、但在特定用途下可以提供的，列为有条件共享；"
        "法律法规明确禁止提供的，列为不予共享，并写明依据。\n",
    ),
    (
        "DXXX",
        "jiangxin",
        "howto",
        "统一身份认证接入说明",
        "## 支持的协议\n\nOpenID Connect 与 LDAP。\n\n"
        "## 接入步骤\n\n1. 在信息中心登记应用。\n2. 配置回调地址。\n3. 用测试账号验证登录。\n",
    ),
    ("BGT", "lijing", "lessons", "跨部门督办事项信息共享的经验", ""),
]

# asker, asked department, title, body, answerer, answer, accepted, turned into an article
QUESTIONS = [
    (
        "guomin",
        "SWJ",
        "社保基数核定能否直接引用纳税人登记信息？",
        "我们每年核定时都要单位重新填报名称和信用代码，能否直接用税务局的登记数据？",
        "yangfan",
        "可以。纳税人登记信息在目录中是有条件共享，申请时写明“社保基数核定”，授权期一年，按年续期即可。",
        True,
        True,
    ),
    (
        "tangyan",
        "SBZX",
        "医院职工参保状态怎么批量核对？",
        "新入职的医护人员较多，想每月核对一次参保状态。",
        "hexue",
        "社保中心提供参保状态查询接口，按统一社会信用代码批量查询，每次不超过 500 条。",
        True,
        True,
    ),
    (
        "zhangwei",
        "DSJ",
        "督办系统如何订阅其他部门的进展更新？",
        "",
        "weiwei",
        "在资源页点“关注”，或在“回调”里登记督办系统的地址，选择 resource.updated 事件。",
        True,
        False,
    ),
    (
        "liangyu",
        "SWJ",
        "企业注销前需要核对哪些涉税信息？",
        "市场监管办理注销登记时需要确认企业无欠税。",
        "zhaomin",
        "看“清税证明”是否已开具即可；已开具说明无欠税、无未结案件。",
        False,
        False,
    ),
    ("xiaoran", "YY1", "发热门诊日报的字段口径在哪里？", "", None, None, False, False),
    (
        "caiming",
        "DSJ",
        "数据共享平台的接口限流是多少？",
        "",
        "yeqing",
        "默认每个令牌每分钟 600 次，超过返回 429。",
        True,
        False,
    ),
]

# host department, speaker, title, description, days from today (negative: past), capacity, place, ratings
SESSIONS = [
    (
        "SWJ",
        "yangfan",
        "电子税务局数据共享实践",
        "介绍纳税人登记信息如何通过接口共享给社保、市场监管等部门。",
        -40,
        30,
        "税务局三楼会议室",
        (5, 4, 5, 4),
    ),
    (
        "DSJ",
        "weiwei",
        "公共数据目录编制方法",
        "目录怎么编、共享类型怎么定、常见问题。",
        -12,
        40,
        "大数据管理局报告厅",
        (5, 5, 3),
    ),
    ("WJW", "tangyan", "敏感健康数据的脱敏与授权", "患者同意、字段脱敏和授权到期的做法。", 6, 3, "卫健委 502", ()),
    ("DXXX", "jiangxin", "统一身份认证与单点登录", "OpenID Connect 接入演示。", 13, 50, "", ()),
]


def _user(username: str) -> User:
    return User.objects.get(username=username)


def _department(code: str) -> Department:
    return Department.objects.get(code=code)


class KnowledgeLoader:
    """Schedules the knowledge steps on the demo's timeline (see generator._Loader)."""

    def __init__(self, timeline, axis, seed: int) -> None:
        self.timeline, self.axis = timeline, axis
        self.rng = random.Random(seed * 31 + 5)
        self.articles: dict[str, Resource] = {}
        self.questions: dict[str, Question] = {}
        self.sessions: dict[str, Session] = {}

    def schedule(self) -> None:
        end = self.axis.end
        for number, entry in enumerate(ARTICLES):
            x = end * (0.55 + 0.35 * number / len(ARTICLES))
            self.timeline.at(x, partial(self._article, *entry))
        for number, (asker, code, title, body, answerer, answer, accepted, to_article) in enumerate(QUESTIONS):
            x = end * (0.7 + 0.25 * number / len(QUESTIONS))
            self.timeline.at(x, partial(self._question, asker, code, title, body))
            if answerer is not None:  # every step is scheduled before the timeline runs
                later = min(x + self.axis.days(self.rng.uniform(0.2, 1.5)), end - 90)
                self.timeline.at(later, partial(self._answer, title, answerer, answer, accepted, to_article))
        for entry in SESSIONS:
            day = self.axis.today + timedelta(days=entry[4])
            while day.weekday() >= 5:
                day += timedelta(days=1)
            starts = datetime.combine(day, time(14, 30), tzinfo=self.axis.zone)
            # Announced ten days ahead (upcoming ones: on the last working day of the history).
            x = self.axis.at_date(day - timedelta(days=10)) if entry[4] < 0 else end - 120
            self.timeline.at(x, partial(self._session, starts, *entry))
            if entry[4] < 0:
                self.timeline.at_moment(starts + timedelta(hours=2), partial(self._rate, entry[2], entry[7]))
        self.timeline.at(end - 30, self._reactions)

    def _article(self, code, author, template, title, body) -> None:
        """A steward publishes at once; a member writes a draft that a steward of the department publishes."""
        writer, department = _user(author), _department(code)
        may_publish = bool(can(writer, Action.MANAGE, Resource(owner_department=department)))
        article = articles.create_article(
            writer, department=department, title=title, body=body, template=template, publish=may_publish
        )
        resource = article.resource
        if not may_publish:
            steward = (
                User.objects.filter(memberships__department=department, memberships__role="steward", is_active=True)
                .order_by("username")
                .first()
            )
            resource = catalog.transition(steward, resource, "publish")
        self.articles[title] = resource

    def _question(self, asker, code, title, body) -> None:
        self.questions[title] = qa.ask_question(_user(asker), title=title, body=body, department=_department(code))

    def _answer(self, title, answerer, body, accepted, to_article) -> None:
        question = self.questions[title]
        answer = qa.answer_question(_user(answerer), question, body)
        if accepted:
            qa.accept_answer(question.asker, answer)
        if to_article:
            article = qa.to_article(_user(answerer), answer)
            self.articles[question.title] = article.resource

    def _session(self, starts, code, speaker, title, description, days, capacity, place, ratings) -> None:
        organizer = _user(speaker)
        data = {
            "title": title,
            "description": description,
            "host_department": _department(code).pk,
            "speakers": [organizer.pk],
            "starts_at": starts,
            "ends_at": starts + timedelta(hours=1, minutes=30),
            "place": place,
            "link": "" if place else "https://meeting.example.cn/sso-demo",
            "capacity": capacity,
        }
        session = sessions.schedule_session(organizer, data)
        others = list(
            User.objects.filter(kind=User.Kind.PERSON, is_active=True)
            .exclude(pk=organizer.pk)
            .exclude(memberships__department__code=code)
            .order_by("username")
        )
        attendees = self.rng.sample(others, min(len(others), capacity + 2 if capacity < 10 else 8))
        for person in attendees:
            sessions.sign_up(person, session)
        self.sessions[title] = session

    def _rate(self, title, ratings) -> None:
        session = self.sessions[title]
        confirmed = list(session.signups.filter(status="confirmed").select_related("user").order_by("pk"))
        for signup, stars in zip(confirmed, ratings, strict=False):
            sessions.rate_session(signup.user, session, stars, "很实用，希望多办。" if stars >= 4 else "")

    def _reactions(self) -> None:
        """People of other departments comment on, rate and mark articles that helped them."""
        readers = list(User.objects.filter(kind=User.Kind.PERSON, is_active=True).order_by("username"))
        notes = ["用于本部门的办事指南", "核对数据口径时参考", "培训新同事", "对接接口时照着做"]
        for title, resource in sorted(self.articles.items()):
            resource.refresh_from_db()
            outsiders = [
                p for p in readers if not p.memberships.filter(department=resource.owner_department_id).exists()
            ]
            for person in self.rng.sample(outsiders, min(6, len(outsiders))):
                if can(person, Action.READ, resource):
                    catalog.note_content_read(person, [resource], via="page")
            for person in self.rng.sample(outsiders, min(3, len(outsiders))):
                if not can(person, Action.READ, resource):
                    continue
                social.mark_helped(person, resource, self.rng.choice(notes))
                social.set_rating(person, resource, True)
            commenter = self.rng.choice(outsiders)
            if can(commenter, Action.READ, resource):
                social.add_comment(commenter, resource, f"谢谢分享！{title}对我们很有用。")
        points.award_badges(full=True)
