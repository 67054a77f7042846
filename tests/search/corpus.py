"""A small labelled corpus of a city government's catalog, in Chinese and English, shared by the relevance
and backend tests. `build_corpus()` creates it through the services (real events) and returns the
resources by key; the searcher is a member of 办公室, a department that owns nothing, so every open and
conditional entry is visible to them and only open content is readable."""

from __future__ import annotations

from dataclasses import dataclass, field

from sharehub.catalog.models import Resource
from sharehub.org.models import Department, Membership, User
from tests import factories

DOC, DATASET, NOTICE = Resource.Kind.DOCUMENT, Resource.Kind.DATASET, Resource.Kind.NOTICE
OPEN, CONDITIONAL, RESTRICTED = (
    Resource.SharingType.OPEN,
    Resource.SharingType.CONDITIONAL,
    Resource.SharingType.RESTRICTED,
)

DEPARTMENTS = {
    # key: (name, code, parent key)
    "tax": ("税务局", "SWJ", None),
    "hr": ("人力资源和社会保障局", "RSJ", None),
    "social": ("社会保险中心", "SBZX", "hr"),
    "health": ("卫生健康委员会", "WJW", None),
    "market": ("市场监督管理局", "SJJ", None),
    "edu": ("教育局", "JYJ", None),
    "assets": ("机关事务管理局", "JGSW", None),
    "office": ("办公室", "BGS", None),
}


@dataclass(frozen=True)
class Doc:
    dept: str
    title: str
    summary: str = ""
    body: str = ""
    tags: tuple[str, ...] = ()
    kind: str = DOC
    sharing: str = OPEN
    fields: tuple[tuple[str, str], ...] = ()  # dataset fields: (name, description)
    publish: bool = True


CORPUS: dict[str, Doc] = {
    "shebao_base": Doc(
        "hr",
        "2025年社保缴费基数调整通知",
        "社会保险缴费基数上下限调整，自7月1日起执行。",
        "各参保单位：根据上年度全市城镇单位就业人员平均工资，缴费基数下限和上限相应调整。",
        ("社保", "通知"),
        NOTICE,
    ),
    "shebao_transfer": Doc(
        "social",
        "社保转移接续办事指南",
        "跨省转移养老保险关系需要的材料和流程。",
        "参保人离开原参保地时，可申请开具参保缴费凭证。",
        ("社保", "办事指南"),
    ),
    "rsj_plan": Doc(
        "hr",
        "人社局2025年工作要点",
        "就业创业、人才引进和劳动关系方面的重点工作。",
        "全年城镇新增就业目标，稳岗返还政策延续。",
        ("工作要点",),
    ),
    "medical_insurance": Doc(
        "social",
        "城乡居民医疗保险报销目录",
        "医保目录内药品和诊疗项目的报销比例。",
        "门诊慢特病待遇按规定执行。",
        ("医保",),
    ),
    "licence_howto": Doc(
        "market",
        "营业执照办理流程",
        "企业设立登记、变更登记和注销登记的办理材料。",
        "申请人可在政务服务网在线提交材料，审核通过后领取执照。",
        ("营业执照", "企业登记"),
    ),
    "licence_data": Doc(
        "market",
        "营业执照登记数据集",
        "全市市场主体登记信息，每日更新。",
        "",
        ("营业执照", "数据集"),
        DATASET,
        fields=(("uscc", "统一社会信用代码"), ("company_name", "企业名称"), ("registered_capital", "注册资本")),
    ),
    "licence_check": Doc(
        "tax",
        "纳税人营业执照信息核验",
        "税务登记时核验营业执照与统一社会信用代码是否一致。",
        "核验接口每日调用明细。",
        ("税务登记",),
        sharing=CONDITIONAL,
    ),
    "one_stop": Doc(
        "market",
        "企业开办一网通办说明",
        "开办企业全流程网上办理。",
        "申请人完成名称自主申报后，可同步领取营业执照、刻制印章和申领发票。",
        ("企业开办",),
    ),
    "vat_guide": Doc(
        "tax",
        "增值税发票开具指南",
        "小规模纳税人开具增值税专用发票的说明。",
        "纳税人可通过电子税务局申请代开发票。",
        ("增值税", "发票"),
    ),
    "tax_quarter": Doc(
        "tax",
        "2025年第一季度税收收入分析报告",
        "分税种、分行业的季度税收收入情况。",
        "一季度全市税收收入同比增长。",
        ("季度报告",),
    ),
    "credit_rating": Doc(
        "tax",
        "纳税信用等级评价结果",
        "年度纳税信用A级纳税人名单。",
        "",
        ("纳税信用",),
        DATASET,
        fields=(("taxpayer_id", "纳税人识别号"), ("credit_level", "信用等级")),
    ),
    "tax_audit": Doc(
        "tax",
        "税务稽查案件线索",
        "稽查部门内部使用的案件线索。",
        "涉及虚开发票和营业执照冒用的线索汇总。",
        ("稽查",),
        sharing=RESTRICTED,
    ),
    "hospital_beds": Doc(
        "health",
        "全市医院床位使用情况",
        "各级医院每日床位使用率。",
        "",
        ("医院", "床位"),
        DATASET,
        fields=(("hospital_name", "医院名称"), ("beds_total", "开放床位数"), ("beds_used", "实际占用床位数")),
    ),
    "hospital_list": Doc(
        "health",
        "二级以上医院名录",
        "全市二级及以上医院的名称、地址和等级。",
        "名录每季度更新一次。",
        ("医院",),
    ),
    "flu_vaccine": Doc(
        "health",
        "流感疫苗接种安排通知",
        "秋冬季流感疫苗接种点和预约方式。",
        "重点人群免费接种。",
        ("疫苗",),
        NOTICE,
    ),
    "graduates": Doc(
        "edu",
        "高校毕业生就业情况统计",
        "本市高校应届毕业生就业去向和行业分布。",
        "",
        ("高校", "就业"),
        DATASET,
        fields=(("university", "高校名称"), ("employment_rate", "就业率")),
    ),
    "admissions": Doc(
        "edu",
        "高校招生计划公示",
        "本市高校本科和专科招生计划。",
        "招生计划按专业分列。",
        ("高校", "招生"),
        NOTICE,
    ),
    "school_food": Doc(
        "edu",
        "中小学校园食品安全检查通知",
        "开学前对学校食堂开展食品安全检查。",
        "检查结果纳入学校年度考核。",
        ("食品安全",),
        NOTICE,
    ),
    "projector": Doc(
        "assets",
        "会议室投影仪借用登记",
        "共享设备：投影仪、音响和视频会议终端。",
        "借用须提前一个工作日预约。",
        ("设备", "会议室"),
    ),
    "car_pool": Doc(
        "assets",
        "公务用车共享调度办法",
        "各部门公务用车统一调度、按需使用。",
        "用车申请经部门负责人审批。",
        ("公务用车",),
    ),
    "asset_list": Doc(
        "assets",
        "办公设备资产清单",
        "各部门计算机、打印机等办公设备的资产编号和使用人。",
        "",
        ("设备", "资产"),
        DATASET,
        fields=(("asset_no", "资产编号"), ("device_type", "设备类型"), ("holder", "使用人")),
    ),
    "en_quarterly": Doc(
        "tax",
        "Quarterly Report on Tax Revenue",
        "Revenue by tax type for the first quarter of 2025.",
        "Collections rose on the back of corporate income tax.",
        ("revenue",),
    ),
    "en_minutes": Doc(
        "office",
        "Quarterly Meeting Minutes",
        "Decisions of the quarterly coordination meeting.",
        "Attendance and action items.",
        ("minutes",),
    ),
    "en_annual": Doc(
        "office",
        "Annual Report 2024",
        "Yearly summary of the office's work.",
        "Highlights and outlook.",
        ("annual",),
    ),
    "en_budget": Doc(
        "office",
        "Report on the Annual Budget",
        "The budget as adopted, by programme.",
        "",
        ("budget",),
    ),
    "en_hospital": Doc(
        "health",
        "Hospital Bed Occupancy Weekly",
        "Weekly occupancy across public hospitals.",
        "",
        ("hospital",),
    ),
    "en_university": Doc(
        "edu",
        "University Graduate Employment Survey",
        "Where graduates of local universities found work.",
        "Survey of the class of 2024.",
        ("university",),
    ),
    "en_equipment": Doc(
        "assets",
        "Equipment Sharing Policy",
        "How departments borrow idle equipment from each other.",
        "Bookings are made a working day in advance.",
        ("equipment",),
    ),
    "en_licence": Doc(
        "market",
        "Business Licence Registration Guide",
        "How to register a business licence online.",
        "Upload the articles of association and the ID of the legal representative.",
        ("licence",),
    ),
    "licence_draft": Doc(
        "market",
        "营业执照电子化改革方案（草稿）",
        "尚未发布的改革方案。",
        "",
        ("营业执照",),
        publish=False,
    ),
}


@dataclass
class Corpus:
    departments: dict[str, Department]
    resources: dict[str, Resource]
    searcher: User  # a member of 办公室 (owns only the English office documents)
    outsider: User  # a member of a department that owns nothing at all
    admin: User
    by_id: dict[int, str] = field(default_factory=dict)

    def keys(self, hits) -> list[str]:
        """The corpus keys of hits (or of resources)."""
        return [self.by_id[getattr(h, "resource", h).pk] for h in hits]


def build_corpus() -> Corpus:
    departments: dict[str, Department] = {}
    for key, (name, code, parent) in DEPARTMENTS.items():
        departments[key] = factories.department(name, code, parent=departments[parent] if parent else None)
    outsider_dept = factories.department("信息中心", "XXZX")
    stewards = {key: factories.member(dept, Membership.Role.STEWARD) for key, dept in departments.items()}
    resources: dict[str, Resource] = {}
    for key, doc in CORPUS.items():
        extra = {}
        if doc.fields:
            extra["dataset_fields"] = [{"name": n, "description": d} for n, d in doc.fields]
        resources[key] = factories.resource(
            departments[doc.dept],
            by=stewards[doc.dept],
            kind=doc.kind,
            sharing_type=doc.sharing,
            publish=doc.publish,
            title=doc.title,
            summary=doc.summary,
            body=doc.body,
            tags=list(doc.tags),
            **extra,
        )
    corpus = Corpus(
        departments=departments,
        resources=resources,
        searcher=User.objects.get(pk=factories.member(departments["office"]).pk),
        outsider=User.objects.get(pk=factories.member(outsider_dept).pk),
        admin=User.objects.get(pk=factories.person(admin=True).pk),
    )
    corpus.by_id = {r.pk: key for key, r in resources.items()}
    return corpus
