"""Words the generated corpus is written with, and the queries the benchmark asks.

Each theme is a cluster of government and enterprise words that appear together in real documents
(社保 with 缴费 and 基数, procurement with tender and vendor), so that a 2-term query drawn from one
theme hits hundreds to thousands of the 200,000 generated resources, as real queries do.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Theme:
    zh: tuple[str, ...]
    en: tuple[str, ...]
    tags: tuple[str, ...]


def _words(text: str, sep: str | None = None) -> tuple[str, ...]:
    return tuple(text.split(sep))


def _theme(zh: str, en: str, tags: str) -> Theme:
    return Theme(_words(zh), _words(en, ","), _words(tags))


# Most frequent first: themes are drawn with weights that fall with their rank.
THEMES: tuple[Theme, ...] = (
    _theme(
        "社保 缴费 基数 参保 社保卡 养老保险 失业保险 工伤保险 待遇 核定",
        "social security,pension,contribution",
        "社保 养老",
    ),
    _theme(
        "财政 预算 决算 专项资金 绩效评价 国库 支付 转移支付",
        "budget,budget review,expenditure,fiscal year",
        "财政 预算",
    ),
    _theme("税务 发票 增值税 纳税申报 个人所得税 企业所得税 减税降费 退税 稽查", "tax return,VAT,invoice", "税务 发票"),
    _theme("采购 招标 供应商 合同 中标 询价 政府采购 履约", "procurement,tender,vendor contract,vendor", "采购 招标"),
    _theme("项目进度 里程碑 验收 工期 投资 开工 竣工", "project milestone,status report,deliverable", "项目 进度"),
    _theme("医保 报销 异地就医 定点医院 药品目录 结算 门诊 住院", "health insurance,claims,reimbursement", "医保"),
    _theme("统计 年报 季度报告 统计报表 数据质量 抽样调查 普查", "quarterly report,statistics,survey", "统计 年报"),
    _theme("营业执照 办理 登记 变更 注销 市场主体 经营范围 年报", "business license,registration", "营业执照 市场主体"),
    _theme("公积金 提取 缴存 贷款 缴存基数 租房 购房", "housing fund,loan", "公积金"),
    _theme("审计 整改 问题清单 内控 经济责任 督查", "audit,compliance,audit findings", "审计 整改"),
    _theme("人事 编制 招聘 考核 培训 工资 薪酬 职称", "payroll,headcount,training,onboarding", "人事 薪酬"),
    _theme(
        "数据共享 接口 目录 数据资源 信息化 系统升级 网络安全",
        "data sharing,API,integration,security review",
        "数据共享 信息化",
    ),
    _theme("政务服务 一网通办 办件 窗口 好差评 营商环境 减材料", "service portal,one-stop service", "政务服务"),
    _theme("安全生产 检查 隐患 排查 应急管理 演练 事故", "safety inspection,incident report", "安全生产"),
    _theme("就业 补贴 创业 培训 失业登记 岗位", "employment subsidy,job fair", "就业 补贴"),
    _theme("不动产登记 产权 抵押 过户 房屋 土地", "property registration,mortgage", "不动产"),
    _theme("固定资产 盘点 设备 维修 报废 资产台账", "asset inventory,maintenance", "资产 设备"),
    _theme("食品安全 抽检 药品监管 许可证 餐饮 监督检查", "food safety,permit", "食品安全"),
    _theme("环境保护 排污 许可证 监测 空气质量 整改", "environmental monitoring,emission", "环保"),
    _theme("档案 归档 借阅 数字化 保管期限", "records management,archive", "档案"),
    _theme("民政 低保 救助 养老服务 残疾人 社会组织", "social assistance,elderly care", "民政 救助"),
    _theme("卫生 医疗机构 疫苗 公共卫生 健康档案 监测", "public health,vaccination", "卫生"),
    _theme("交通运输 道路 公交 运输许可 路网 养护", "transport,road maintenance", "交通"),
    _theme("教育 学位 招生 校舍 教师 资助", "enrollment,school", "教育"),
    _theme("应急管理 防汛 物资 值班 预案", "emergency plan,flood control", "应急"),
    _theme("城市规划 用地 规划许可 建设项目 红线", "zoning,planning permit", "规划"),
    _theme("会议纪要 督办 落实 部署 通报", "meeting minutes,action items", "会议"),
    _theme("户籍 居住证 迁移 身份证 落户", "residence permit,identity card", "户籍"),
    _theme("招商引资 外贸 进出口 企业服务 营商环境", "investment promotion,export", "商务"),
    _theme("退役军人 优抚 安置 抚恤", "veterans affairs,resettlement", "退役军人"),
)

# Words admins add to the organization's dictionary (jieba would otherwise split them).
ORG_TERMS = (
    "项目进度",
    "一网通办",
    "不动产登记",
    "减税降费",
    "营商环境",
    "纳税申报",
    "异地就医",
    "政务服务",
    "安全生产",
)

VERBS = _words("办理 核验 登记 变更 审批 公示 督查 落实 推进 发放 征收 核定 备案 评估 监测 对接 汇总 调整 部署 通报")
DOC_TYPES = _words("通知 办法 方案 报告 意见 指南 细则 规定 清单 台账 纪要 简报 说明 公告")
GENERAL = _words("工作 情况 要求 相关 单位 企业 群众 人员 材料 系统 平台 数据 流程 标准 制度 服务 管理 质量 风险 措施")
PLACES = _words("全市 各区 本部门 各单位 基层 窗口 线上 线下")
EN_DOC_TYPES = _words("report,memo,guideline,checklist,plan,summary,notice,review", ",")
EN_GENERAL = _words(
    "figures,baseline,deadline,owner,dashboard,template,workflow,approval,schedule,risk register,"
    "stakeholders,budget line,cost centre,service level,backlog",
    ",",
)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉斌宇浩凯"

BUREAUS = (
    ("税务局", "tax"),
    ("财政局", "fin"),
    ("人力资源和社会保障局", "hrss"),
    ("医疗保障局", "med"),
    ("住房公积金管理中心", "hpf"),
    ("市场监督管理局", "amr"),
    ("发展和改革委员会", "drc"),
    ("审计局", "aud"),
    ("统计局", "stat"),
    ("政务服务数据管理局", "gsd"),
    ("卫生健康委员会", "hlth"),
    ("民政局", "civ"),
    ("教育局", "edu"),
    ("交通运输局", "tra"),
    ("生态环境局", "env"),
    ("自然资源和规划局", "nrp"),
    ("住房和城乡建设局", "hud"),
    ("应急管理局", "em"),
    ("商务局", "com"),
    ("退役军人事务局", "vet"),
)
UNITS = ("办公室", "综合科", "财务科", "法规科", "信息中心", "第一分局", "第二分局", "业务一处", "业务二处")

CATEGORIES = ("基础信息", "主题信息", "部门信息", "统计数据", "政策文件", "项目管理")

# 2-term Chinese queries (each from one theme, so they hit like real ones) and English queries whose
# last word is still being typed (prefix match).
ZH_QUERIES = (
    "社保 缴费",
    "财政 预算",
    "税务 发票",
    "采购 招标",
    "项目进度 验收",
    "医保 报销",
    "统计 年报",
    "营业执照 办理",
    "公积金 提取",
    "审计 整改",
    "人事 考核",
    "数据共享 接口",
    "政务服务 一网通办",
    "安全生产 隐患",
    "就业 补贴",
    "不动产登记 抵押",
    "固定资产 盘点",
    "食品安全 抽检",
    "档案 数字化",
    "应急管理 预案",
)
EN_QUERIES = (
    "budget rev",
    "procure",
    "quarterly rep",
    "health ins",
    "tax ret",
    "vendor con",
    "payroll",
    "data shar",
    "safety insp",
    "asset inv",
)
