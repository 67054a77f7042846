# ruff: noqa: E501  (long Chinese strings of demo content read better unbroken)
"""What the demo city holds: departments, people and the resources each department shares.

The cases come from the source article on 信息共享机制: the tax bureau and social security sharing
records instead of typing them in twice (纳税人登记信息 ↔ 社保缴费基数核定), business licences
registered once by market supervision and reused by everyone, a hospital's idle equipment offered
to others, public-health notices, a university's shared knowledge, and the progress of cross-
department projects such as 一网通办 published where everyone can follow it.
"""

from __future__ import annotations

PASSWORD = "sharehub-demo"

# code, name, parent code, description
DEPARTMENTS = [
    ("BGT", "市政府办公厅", None, "统筹全市政务公开、督查督办和跨部门协同。"),
    ("SWJ", "税务局", None, "负责税收征管、纳税服务和税收数据管理。"),
    ("RSJ", "人力资源和社会保障局", None, "负责就业、人才、劳动关系和社会保障政策。"),
    ("SBZX", "社会保险事业管理中心", "RSJ", "经办养老、医疗、失业、工伤保险的登记、缴费核定和待遇发放。"),
    ("SJJ", "市场监督管理局", None, "负责市场主体登记注册、食品药品和特种设备安全监管。"),
    ("WJW", "卫生健康委员会", None, "负责医疗卫生服务体系建设、公共卫生和健康统计。"),
    ("CDC", "疾病预防控制中心", "WJW", "负责传染病监测、预防接种和突发公共卫生事件处置。"),
    ("YY1", "市第一人民医院", "WJW", "市属三级甲等综合医院，设有影像、检验和重症医学中心。"),
    ("DX", "市属大学", None, "市属综合性大学，承担教学、科研和社会服务。"),
    ("DXXX", "信息中心", "DX", "负责大学的网络、统一身份认证、数据中台和信息系统建设。"),
    ("DSJ", "大数据管理局", None, "负责政务数据共享交换平台、公共数据目录和数据安全管理。"),
]

# username, display name, {department code: role}; the first department is the home department
PEOPLE = [
    ("wangjianguo", "王建国", {"BGT": "head"}),
    ("lijing", "李静", {"BGT": "steward", "DSJ": "member"}),
    ("zhangwei", "张伟", {"BGT": "member"}),
    ("liuyang", "刘洋", {"BGT": "member"}),
    ("chenzhiqiang", "陈志强", {"SWJ": "head"}),
    ("yangfan", "杨帆", {"SWJ": "steward"}),
    ("zhaomin", "赵敏", {"SWJ": "steward"}),
    ("huanglei", "黄磊", {"SWJ": "member"}),
    ("zhouting", "周婷", {"SWJ": "member", "SBZX": "member"}),
    ("wuhao", "吴昊", {"SWJ": "member"}),
    ("xulixin", "徐立新", {"RSJ": "head", "SBZX": "member"}),
    ("sunli", "孙丽", {"RSJ": "steward"}),
    ("machao", "马超", {"RSJ": "member"}),
    ("zhulin", "朱琳", {"RSJ": "member"}),
    ("huhaitao", "胡海涛", {"SBZX": "head"}),
    ("guomin", "郭敏", {"SBZX": "steward"}),
    ("hexue", "何雪", {"SBZX": "member"}),
    ("linfeng", "林峰", {"SBZX": "member"}),
    ("gaojie", "高洁", {"SBZX": "member"}),
    ("luobin", "罗斌", {"SJJ": "head"}),
    ("zhengshuang", "郑爽", {"SJJ": "steward"}),
    ("liangyu", "梁宇", {"SJJ": "member"}),
    ("songjia", "宋佳", {"SJJ": "member", "SWJ": "member"}),
    ("xiepeng", "谢鹏", {"SJJ": "member"}),
    ("handong", "韩东", {"WJW": "head", "CDC": "member", "YY1": "member"}),
    ("tangyan", "唐燕", {"WJW": "steward"}),
    ("fengtao", "冯涛", {"WJW": "member"}),
    ("yuqian", "于倩", {"WJW": "member"}),
    ("dongwei", "董卫", {"CDC": "head"}),
    ("xiaoran", "萧然", {"CDC": "steward"}),
    ("chengchen", "程晨", {"CDC": "member"}),
    ("caoyang", "曹阳", {"CDC": "member"}),
    ("yuanming", "袁明", {"YY1": "head"}),
    ("denglihua", "邓丽华", {"YY1": "steward"}),
    ("xunuo", "许诺", {"YY1": "member"}),
    ("fuqiang", "傅强", {"YY1": "member"}),
    ("shenjie", "沈洁", {"YY1": "member"}),
    ("zengguoping", "曾国平", {"DX": "head"}),
    ("pengbo", "彭博", {"DX": "steward"}),
    ("lvhan", "吕涵", {"DX": "member"}),
    ("suqing", "苏晴", {"DX": "member", "DXXX": "member"}),
    ("lujun", "卢军", {"DXXX": "head", "DSJ": "member"}),
    ("jiangxin", "蒋欣", {"DXXX": "steward"}),
    ("caiming", "蔡明", {"DXXX": "member"}),
    ("jiazhenhua", "贾振华", {"DSJ": "head"}),
    ("dingning", "丁宁", {"DSJ": "steward", "BGT": "member"}),
    ("weiwei", "魏巍", {"DSJ": "steward"}),
    ("xuekai", "薛凯", {"DSJ": "member"}),
    ("yeqing", "叶青", {"DSJ": "member"}),
    ("yanlei", "阎磊", {"DSJ": "member"}),
]

ADMIN = ("admin", "系统管理员")
AUDITOR = ("auditor", "审计员")
SERVICE_ACCOUNTS = [("erp-sync", "ERP 数据同步服务", "DSJ")]

# children added under the default root categories
CATEGORIES = {
    "基础信息资源": ["人口基础信息", "法人单位基础信息", "自然资源和空间地理"],
    "主题信息资源": ["社会保障", "公共卫生", "营商环境", "教育科研"],
    "部门信息资源": ["政务公开", "内部管理", "设备资产"],
}

SENSITIVITY_LABEL = {"public": "公开", "internal": "内部", "sensitive": "敏感", "secret": "涉密"}

_PIPL = "《中华人民共和国个人信息保护法》第十三条、第二十八条：敏感个人信息未经本人单独同意不得向其他部门提供。"
_TAX_SECRET = "《中华人民共和国税收征收管理法》第八条：税务机关应当依法为纳税人、扣缴义务人的情况保密。"
_MEDICAL = "《医疗机构病历管理规定》第六条及《个人信息保护法》：病历资料仅限诊疗和法定用途使用。"
_DSL = "《中华人民共和国数据安全法》第二十一条：核心数据和重要数据实行重点保护。"
_SECRET = "《中华人民共和国保守国家秘密法》及本市工作秘密管理办法：内部工作秘密不对外共享。"

RESTRICTION_BASES = [_PIPL, _DSL, _SECRET, "《政府信息公开条例》第十四条：内部事务信息不予公开和共享。"]
CONDITIONS = [
    "仅限履行法定职责使用，需说明用途和使用期限，经本部门资源管理员审核后开放。",
    "用于业务核验时按需调用，不得批量下载或转提供给第三方。",
    "需签订数据使用承诺书，使用结果按季度反馈数据提供部门。",
    "仅共享统计汇总结果，明细数据需逐项申请并经分管领导同意。",
]

# Each dataset: title, summary, tags, category, grade, sharing (type, text), scope (codes or None for all),
# update frequency, fields (name, type, description, sensitivity).
DATASETS = {
    "SWJ": [
        {
            "title": "纳税人登记信息",
            "summary": "全市企业和个体工商户的税务登记、变更和注销信息，供社保缴费基数核定和市场主体信息核验使用。",
            "tags": ["纳税", "社保", "营业执照", "法人"],
            "category": "法人单位基础信息",
            "grade": "重要",
            "sharing": (
                "conditional",
                "仅用于社会保险缴费基数核定、市场主体登记信息核验；按接口实时查询，不得批量导出或对外提供。",
            ),
            "scope": ["RSJ", "SJJ", "DSJ"],
            "frequency": "realtime",
            "fields": [
                ("unified_credit_code", "credit_code", "统一社会信用代码", "public", {"required": True}),
                ("taxpayer_name", "text", "纳税人名称", "public", {"required": True}),
                ("legal_representative", "text", "法定代表人姓名", "sensitive", {"masking": "partial"}),
                ("legal_rep_id_number", "resident_id", "法定代表人身份证件号码", "sensitive", {"masking": "partial"}),
                ("contact_phone", "phone", "办税人员联系电话", "internal", {"masking": "partial"}),
                ("registered_address", "text", "注册地址", "internal"),
                ("registered_capital", "decimal", "注册资本（万元）", "internal"),
                ("registration_date", "date", "税务登记日期", "public"),
                ("taxpayer_status", "enum", "纳税人状态", "internal", {"choices": ["正常", "非正常", "注销"]}),
                ("risk_note", "text", "税收风险提示", "secret"),
            ],
        },
        {
            "title": "企业职工工资薪金所得个税申报汇总",
            "summary": "按单位汇总的工资薪金个人所得税申报数据，供社保中心核定缴费基数时比对工资总额。",
            "tags": ["纳税", "社保", "缴费基数"],
            "category": "社会保障",
            "grade": "重要",
            "sharing": ("conditional", "仅用于社会保险缴费基数核定比对，按单位汇总提供，不含个人明细。"),
            "scope": ["SBZX"],
            "frequency": "monthly",
            "fields": [
                ("unified_credit_code", "text", "统一社会信用代码", "public"),
                ("period", "text", "所属期（YYYY-MM）", "public"),
                ("employee_count", "integer", "申报人数", "internal"),
                ("total_wages", "decimal", "工资薪金收入合计（元）", "sensitive"),
                ("tax_withheld", "decimal", "已扣缴税额（元）", "sensitive"),
            ],
        },
        {
            "title": "纳税信用等级评价结果",
            "summary": "年度纳税信用A、B、M、C、D级评价结果，供各部门在招投标、评优和信用联合奖惩中使用。",
            "tags": ["纳税", "信用", "营商环境"],
            "category": "营商环境",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "yearly",
            "fields": [
                ("unified_credit_code", "text", "统一社会信用代码", "public"),
                ("taxpayer_name", "text", "纳税人名称", "public"),
                ("credit_level", "text", "纳税信用级别", "public"),
                ("evaluation_year", "integer", "评价年度", "public"),
            ],
        },
        {
            "title": "个人所得税纳税明细",
            "summary": "自然人纳税人逐笔申报明细，含收入、扣除和应纳税额。",
            "tags": ["纳税", "个人信息"],
            "category": "人口基础信息",
            "grade": "核心",
            "sharing": ("restricted", _TAX_SECRET + "同时适用" + _PIPL),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("id_number", "text", "身份证件号码", "secret"),
                ("name", "text", "姓名", "sensitive"),
                ("income_item", "text", "所得项目", "sensitive"),
                ("income_amount", "decimal", "收入额（元）", "secret"),
                ("tax_payable", "decimal", "应纳税额（元）", "secret"),
            ],
        },
        {
            "title": "发票开具汇总统计",
            "summary": "按行业、按月汇总的增值税发票开具份数和金额，用于经济运行分析。",
            "tags": ["纳税", "经济运行"],
            "category": "营商环境",
            "grade": "重要",
            "sharing": ("conditional", "仅共享行业汇总结果，用于经济运行监测分析，不得用于个别企业核查。"),
            "scope": ["BGT", "DSJ", "SJJ"],
            "frequency": "monthly",
            "fields": [
                ("period", "text", "所属期", "public"),
                ("industry", "text", "行业门类", "public"),
                ("invoice_count", "integer", "开票份数", "internal"),
                ("amount", "decimal", "开票金额（万元）", "internal"),
            ],
        },
    ],
    "SBZX": [
        {
            "title": "社保缴费基数核定结果",
            "summary": "各参保单位年度社会保险缴费基数核定结果，与税务部门共享后用于社保费征收，避免重复申报。",
            "tags": ["社保", "缴费基数", "纳税"],
            "category": "社会保障",
            "grade": "重要",
            "sharing": ("conditional", "仅用于社会保险费征收和稽核，需通过数据共享交换平台接口调用。"),
            "scope": ["SWJ", "DSJ"],
            "frequency": "monthly",
            "fields": [
                ("unified_credit_code", "credit_code", "统一社会信用代码", "public", {"required": True}),
                ("unit_name", "text", "参保单位名称", "public", {"required": True}),
                ("insured_count", "integer", "参保人数", "internal"),
                ("contribution_base_total", "decimal", "缴费基数合计（元）", "sensitive"),
                ("verified_at", "date", "核定日期", "internal"),
            ],
        },
        {
            "title": "参保人员基本信息",
            "summary": "参保人员身份、参保险种、参保状态和缴费记录。",
            "tags": ["社保", "医保", "个人信息"],
            "category": "人口基础信息",
            "grade": "核心",
            "sharing": ("restricted", _PIPL),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("id_number", "text", "公民身份号码", "secret"),
                ("name", "text", "姓名", "sensitive"),
                ("insurance_types", "text", "参保险种", "internal"),
                ("status", "text", "参保状态", "internal"),
                ("monthly_base", "decimal", "个人缴费基数（元）", "sensitive"),
            ],
        },
        {
            "title": "养老保险待遇发放统计",
            "summary": "按月汇总的基本养老金发放人数和金额。",
            "tags": ["社保", "养老"],
            "category": "社会保障",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "monthly",
            "fields": [
                ("period", "text", "发放月份", "public"),
                ("retiree_count", "integer", "领取人数", "public"),
                ("amount", "decimal", "发放金额（万元）", "public"),
            ],
        },
    ],
    "RSJ": [
        {
            "title": "就业失业登记信息",
            "summary": "劳动者就业登记、失业登记和就业困难人员认定信息。",
            "tags": ["就业", "社保", "个人信息"],
            "category": "社会保障",
            "grade": "重要",
            "sharing": ("conditional", CONDITIONS[0]),
            "scope": ["SBZX", "DSJ", "BGT"],
            "frequency": "daily",
            "fields": [
                ("id_number", "text", "公民身份号码", "secret"),
                ("name", "text", "姓名", "sensitive"),
                ("employment_status", "text", "就业状态", "internal"),
                ("employer_credit_code", "text", "用人单位统一社会信用代码", "internal"),
                ("registered_at", "date", "登记日期", "internal"),
            ],
        },
        {
            "title": "职业技能等级证书信息",
            "summary": "职业技能等级认定机构颁发的证书信息，可用于人才补贴和落户核验。",
            "tags": ["人才", "电子证照"],
            "category": "人口基础信息",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "weekly",
            "fields": [
                ("certificate_no", "text", "证书编号", "public"),
                ("holder_name", "text", "持证人姓名", "internal"),
                ("occupation", "text", "职业（工种）", "public"),
                ("level", "text", "等级", "public"),
                ("issued_at", "date", "发证日期", "public"),
            ],
        },
    ],
    "SJJ": [
        {
            "title": "企业营业执照登记信息",
            "summary": "市场主体设立、变更、注销登记信息，登记一次、全市共享，各部门办事不再要求企业重复提交营业执照复印件。",
            "tags": ["营业执照", "法人", "电子证照", "营商环境"],
            "category": "法人单位基础信息",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "realtime",
            "fields": [
                ("unified_credit_code", "text", "统一社会信用代码", "public"),
                ("enterprise_name", "text", "企业名称", "public"),
                ("enterprise_type", "text", "企业类型", "public"),
                ("legal_representative", "text", "法定代表人", "public"),
                ("registered_capital", "decimal", "注册资本（万元）", "public"),
                ("established_on", "date", "成立日期", "public"),
                ("business_scope", "text", "经营范围", "public"),
                ("registration_authority", "text", "登记机关", "public"),
                ("status", "text", "登记状态", "public"),
            ],
        },
        {
            "title": "市场主体变更登记记录",
            "summary": "企业名称、地址、法定代表人、注册资本等事项的变更记录，税务和社保据此同步更新登记信息。",
            "tags": ["营业执照", "纳税", "社保"],
            "category": "法人单位基础信息",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("unified_credit_code", "text", "统一社会信用代码", "public"),
                ("change_item", "text", "变更事项", "public"),
                ("before", "text", "变更前内容", "public"),
                ("after", "text", "变更后内容", "public"),
                ("changed_on", "date", "变更日期", "public"),
            ],
        },
        {
            "title": "行政处罚信息",
            "summary": "市场监管领域行政处罚决定书信息，按规定公示期内共享。",
            "tags": ["信用", "执法"],
            "category": "营商环境",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "weekly",
            "fields": [
                ("decision_no", "text", "处罚决定书文号", "public"),
                ("party_name", "text", "当事人名称", "public"),
                ("violation", "text", "违法行为类型", "public"),
                ("penalty", "text", "处罚内容", "public"),
                ("decided_on", "date", "处罚决定日期", "public"),
            ],
        },
        {
            "title": "特种设备检验检测信息",
            "summary": "电梯、锅炉、压力容器等特种设备的定期检验结果和隐患整改情况。",
            "tags": ["安全生产", "设备"],
            "category": "设备资产",
            "grade": "重要",
            "sharing": ("conditional", CONDITIONS[1]),
            "scope": ["YY1", "DX", "BGT"],
            "frequency": "monthly",
            "fields": [
                ("device_code", "text", "设备注册代码", "public"),
                ("user_unit", "text", "使用单位", "internal"),
                ("device_type", "text", "设备类别", "public"),
                ("inspection_result", "text", "检验结论", "internal"),
                ("next_inspection", "date", "下次检验日期", "internal"),
            ],
        },
    ],
    "WJW": [
        {
            "title": "医疗机构执业登记信息",
            "summary": "全市医疗机构名称、类别、诊疗科目、床位数和执业许可证有效期。",
            "tags": ["医疗", "电子证照", "医保"],
            "category": "公共卫生",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "monthly",
            "fields": [
                ("licence_no", "text", "执业许可证登记号", "public"),
                ("institution_name", "text", "机构名称", "public"),
                ("category", "text", "机构类别", "public"),
                ("beds", "integer", "核定床位数", "public"),
                ("valid_until", "date", "有效期至", "public"),
            ],
        },
        {
            "title": "医师执业注册信息",
            "summary": "医师执业注册、变更和多机构备案信息。",
            "tags": ["医疗", "人才"],
            "category": "公共卫生",
            "grade": "重要",
            "sharing": ("conditional", CONDITIONS[2]),
            "scope": ["RSJ", "SBZX", "YY1"],
            "frequency": "weekly",
            "fields": [
                ("physician_no", "text", "医师执业证书编码", "internal"),
                ("name", "text", "姓名", "internal"),
                ("id_number", "text", "身份证件号码", "secret"),
                ("practice_scope", "text", "执业范围", "public"),
                ("institution", "text", "主要执业机构", "public"),
            ],
        },
        {
            "title": "患者就诊记录",
            "summary": "全市医疗机构门诊和住院就诊记录（每位患者最近一次就诊），患者本人同意后按同意的用途和期限向有关部门提供。",
            "tags": ["医疗", "个人信息", "知情同意"],
            "category": "公共卫生",
            "grade": "核心",
            "sharing": ("conditional", "仅向患者本人同意的部门、按同意的用途和期限提供；" + _MEDICAL),
            "scope": ["SBZX", "YY1", "CDC"],
            "frequency": "daily",
            "fields": [
                ("patient_id", "resident_id", "患者身份证号码", "sensitive", {"required": True, "masking": "partial"}),
                ("patient_name", "text", "患者姓名", "sensitive", {"masking": "partial"}),
                ("hospital", "text", "就诊医院", "public"),
                ("clinic", "text", "就诊科室", "internal"),
                ("visit_date", "date", "就诊日期", "internal"),
                ("diagnosis_code", "text", "ICD-10 诊断编码", "sensitive", {"masking": "hidden"}),
                ("diagnosis", "text", "诊断", "secret"),
            ],
        },
    ],
    "CDC": [
        {
            "title": "法定传染病疫情监测数据",
            "summary": "按周汇总的法定传染病发病数、死亡数和分布，供卫生健康、教育等部门研判风险。",
            "tags": ["公共卫生", "传染病", "疫情"],
            "category": "公共卫生",
            "grade": "重要",
            "sharing": ("conditional", "仅用于疫情研判和防控部署，未经疾控中心同意不得对外发布。"),
            "scope": ["WJW", "BGT", "DX"],
            "frequency": "weekly",
            "fields": [
                ("week", "text", "统计周", "public"),
                ("disease", "text", "病种", "public"),
                ("district", "text", "区县", "internal"),
                ("cases", "integer", "报告病例数", "internal"),
                ("deaths", "integer", "死亡数", "sensitive"),
            ],
        },
        {
            "title": "预防接种门诊名录",
            "summary": "全市预防接种门诊地址、服务时间和可接种疫苗种类。",
            "tags": ["公共卫生", "疫苗"],
            "category": "公共卫生",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "monthly",
            "fields": [
                ("clinic_name", "text", "门诊名称", "public"),
                ("address", "text", "地址", "public"),
                ("hours", "text", "服务时间", "public"),
                ("vaccines", "text", "可接种疫苗", "public"),
            ],
        },
        {
            "title": "个案流行病学调查记录",
            "summary": "传染病个案流调信息，含活动轨迹和密切接触者。",
            "tags": ["公共卫生", "个人信息"],
            "category": "公共卫生",
            "grade": "核心",
            "sharing": ("restricted", _PIPL + "另依据《传染病防治法》第十二条，个人隐私信息不得泄露。"),
            "scope": None,
            "frequency": "irregular",
            "fields": [
                ("case_id", "text", "个案编号", "sensitive"),
                ("name", "text", "姓名", "secret"),
                ("itinerary", "text", "活动轨迹", "secret"),
                ("contacts", "text", "密切接触者", "secret"),
            ],
        },
    ],
    "YY1": [
        {
            "title": "大型医疗设备闲置时段共享清单",
            "summary": "CT、MRI、DSA 等大型设备的闲置时段，其他医疗机构和科研单位可按时段申请使用，提高设备利用率。",
            "tags": ["设备共享", "医疗", "闲置设备"],
            "category": "设备资产",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("device", "text", "设备名称和型号", "public"),
                ("location", "text", "所在科室", "public"),
                ("idle_slot", "text", "可共享时段", "public"),
                ("contact", "text", "联系人", "internal"),
            ],
        },
        {
            "title": "住院床位实时占用情况",
            "summary": "各病区床位总数、占用数和可收治数，供卫健委调度和疾控中心应急研判。",
            "tags": ["医疗", "公共卫生", "应急"],
            "category": "公共卫生",
            "grade": "重要",
            "sharing": ("conditional", "仅用于医疗资源调度和应急处置，需通过卫健委调度平台调用。"),
            "scope": ["WJW", "CDC"],
            "frequency": "realtime",
            "fields": [
                ("ward", "text", "病区", "public"),
                ("beds_total", "integer", "床位数", "internal"),
                ("beds_occupied", "integer", "占用数", "internal"),
                ("icu_available", "integer", "ICU 可用床位", "sensitive"),
            ],
        },
        {
            "title": "患者电子病历",
            "summary": "门诊和住院电子病历，含诊断、医嘱、检验检查结果。",
            "tags": ["医疗", "个人信息", "医保"],
            "category": "公共卫生",
            "grade": "核心",
            "sharing": ("restricted", _MEDICAL),
            "scope": None,
            "frequency": "realtime",
            "fields": [
                ("patient_id", "text", "患者ID", "sensitive"),
                ("name", "text", "姓名", "secret"),
                ("diagnosis", "text", "诊断", "secret"),
                ("orders", "text", "医嘱", "secret"),
            ],
        },
        {
            "title": "医保结算明细",
            "summary": "医保患者住院和门诊费用结算明细，供社保中心医保稽核。",
            "tags": ["医保", "社保"],
            "category": "社会保障",
            "grade": "重要",
            "sharing": ("conditional", "仅用于医保基金稽核，需经医院医保办审核，按批次提供。"),
            "scope": ["SBZX", "WJW"],
            "frequency": "daily",
            "fields": [
                ("settlement_no", "text", "结算单号", "internal"),
                ("insured_id", "text", "参保人编号", "sensitive"),
                ("total_cost", "decimal", "总费用（元）", "internal"),
                ("fund_paid", "decimal", "统筹支付（元）", "internal"),
            ],
        },
    ],
    "DX": [
        {
            "title": "大型科研仪器共享目录",
            "summary": "单价50万元以上科研仪器的型号、所在实验室、开放时段和收费标准，向全市开放共享。",
            "tags": ["设备共享", "科研", "闲置设备"],
            "category": "教育科研",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "monthly",
            "fields": [
                ("instrument", "text", "仪器名称", "public"),
                ("model", "text", "型号", "public"),
                ("lab", "text", "所在实验室", "public"),
                ("open_hours", "text", "开放时段", "public"),
                ("fee", "text", "收费标准", "public"),
            ],
        },
        {
            "title": "毕业生就业去向数据",
            "summary": "本科和研究生毕业生就业去向、行业和地区分布。",
            "tags": ["就业", "教育"],
            "category": "教育科研",
            "grade": "重要",
            "sharing": ("conditional", CONDITIONS[3]),
            "scope": ["RSJ", "BGT"],
            "frequency": "yearly",
            "fields": [
                ("graduation_year", "integer", "毕业年份", "public"),
                ("degree", "text", "学历层次", "public"),
                ("destination", "text", "去向类别", "internal"),
                ("industry", "text", "就业行业", "internal"),
                ("student_id", "text", "学号", "sensitive"),
            ],
        },
    ],
    "DXXX": [
        {
            "title": "校园信息系统资产清单",
            "summary": "全校在用信息系统、服务器和域名清单，含责任人和等保级别。",
            "tags": ["网络安全", "资产"],
            "category": "内部管理",
            "grade": "重要",
            "sharing": ("restricted", _DSL),
            "scope": None,
            "frequency": "quarterly",
            "fields": [
                ("system", "text", "系统名称", "internal"),
                ("owner", "text", "责任部门", "internal"),
                ("protection_level", "text", "等级保护级别", "sensitive"),
                ("ip_range", "text", "IP 地址段", "secret"),
            ],
        },
    ],
    "DSJ": [
        {
            "title": "政务信息资源目录汇总",
            "summary": "全市各部门编制的政务信息资源目录汇总，含共享类型、更新频率和提供方式。",
            "tags": ["数据目录", "一网通办"],
            "category": "政务公开",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "weekly",
            "fields": [
                ("resource_code", "text", "资源编码", "public"),
                ("resource_name", "text", "资源名称", "public"),
                ("provider", "text", "提供部门", "public"),
                ("sharing_type", "text", "共享类型", "public"),
                ("update_frequency", "text", "更新周期", "public"),
            ],
        },
        {
            "title": "电子证照库调用统计",
            "summary": "各部门调用营业执照、社保卡、职业资格证书等电子证照的次数统计。",
            "tags": ["电子证照", "营业执照", "一网通办"],
            "category": "营商环境",
            "grade": "一般",
            "sharing": ("open", ""),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("licence_type", "text", "证照类型", "public"),
                ("caller", "text", "调用部门", "public"),
                ("calls", "integer", "调用次数", "public"),
                ("date", "date", "日期", "public"),
            ],
        },
        {
            "title": "人口综合库",
            "summary": "汇聚公安、民政、人社、卫健等部门数据形成的人口基础信息综合库。",
            "tags": ["人口", "个人信息", "社保"],
            "category": "人口基础信息",
            "grade": "核心",
            "sharing": ("conditional", "按“最小必要”原则逐字段授权，仅用于法定职责内的身份核验，调用全程留痕。"),
            "scope": None,
            "frequency": "daily",
            "fields": [
                ("id_number", "text", "公民身份号码", "secret"),
                ("name", "text", "姓名", "sensitive"),
                ("gender", "text", "性别", "internal"),
                ("household_address", "text", "户籍地址", "sensitive"),
                ("phone", "text", "联系电话", "sensitive"),
            ],
        },
    ],
    "BGT": [
        {
            "title": "12345 政务服务热线工单",
            "summary": "市民来电诉求工单，含诉求分类、承办部门、办理时限和满意度。",
            "tags": ["12345", "政务服务", "好差评"],
            "category": "政务公开",
            "grade": "重要",
            "sharing": ("conditional", "承办部门可查看本部门工单；跨部门分析需说明用途，去除来电人信息后提供。"),
            "scope": None,
            "frequency": "realtime",
            "fields": [
                ("ticket_no", "text", "工单编号", "public"),
                ("category", "text", "诉求分类", "public"),
                ("handler", "text", "承办部门", "public"),
                ("caller_phone", "text", "来电号码", "secret"),
                ("satisfaction", "text", "满意度", "internal"),
            ],
        },
        {
            "title": "市政府重点工作督办事项",
            "summary": "市政府常务会议确定的重点工作、责任单位、完成时限和进度。",
            "tags": ["督办", "政务"],
            "category": "政务公开",
            "grade": "重要",
            "sharing": ("restricted", _SECRET),
            "scope": None,
            "frequency": "weekly",
            "fields": [
                ("item", "text", "督办事项", "internal"),
                ("lead_unit", "text", "牵头单位", "internal"),
                ("deadline", "date", "完成时限", "internal"),
                ("progress", "text", "进展", "internal"),
            ],
        },
    ],
}

# Documents every department would write; each entry: title, summary, tags.
DOCUMENTS = {
    "BGT": [
        (
            "政务信息资源共享管理办法",
            "明确各部门信息资源共享的责任、流程和考核，是全市信息共享的基础制度。",
            ["制度", "数据共享"],
        ),
        (
            "关于打破部门信息壁垒推进数据共享的实施意见",
            "提出“一数一源、一源多用”，数据只采集一次、各部门共享复用。",
            ["数据共享", "一网通办"],
        ),
        ("跨部门协同办事指引", "列出需要多部门协同办理的事项清单、牵头部门和办理时限。", ["一网通办", "政务服务"]),
    ],
    "SWJ": [
        (
            "税务与社保数据交换接口规范",
            "规定纳税人登记信息与社保缴费基数核定结果的交换字段、频率和接口。",
            ["纳税", "社保", "接口"],
        ),
        ("纳税服务指南（企业版）", "企业办税事项、材料和办理渠道的一站式说明。", ["纳税", "营商环境"]),
        ("税收数据安全管理规定", "涉税数据分级分类、访问控制和对外提供的审批要求。", ["数据安全", "纳税"]),
    ],
    "RSJ": [
        ("人才引进政策汇编", "全市人才引进、落户、补贴和住房保障政策汇编。", ["人才", "就业"]),
        (
            "就业补贴申领经办规程",
            "各类就业补贴的申领条件、材料和经办流程，明确可通过数据共享免交的材料。",
            ["就业", "一网通办"],
        ),
    ],
    "SBZX": [
        (
            "社保缴费基数核定工作规程",
            "缴费基数申报、核定、比对税务工资数据和异议处理的流程。",
            ["社保", "缴费基数", "纳税"],
        ),
        ("社会保险经办服务指南", "参保登记、转移接续、待遇申领等事项的办理指南。", ["社保", "医保"]),
    ],
    "SJJ": [
        (
            "企业开办“一网通办”操作指引",
            "营业执照、公章刻制、税务登记、社保登记一次办结的操作说明。",
            ["营业执照", "一网通办", "营商环境"],
        ),
        (
            "电子营业执照跨部门应用指南",
            "各部门如何通过共享平台核验电子营业执照，免收纸质复印件。",
            ["营业执照", "电子证照"],
        ),
        ("食品安全抽检工作方案", "年度食品安全监督抽检计划、品种和任务分工。", ["食品安全"]),
    ],
    "WJW": [
        ("卫生健康统计年鉴", "全市医疗卫生资源、服务和居民健康状况年度统计。", ["医疗", "统计"]),
        (
            "医疗机构检查检验结果互认办法",
            "二级以上医疗机构检查检验结果互认的项目、条件和质控要求。",
            ["医疗", "数据共享"],
        ),
    ],
    "CDC": [
        ("流感样病例监测方案", "哨点医院流感样病例监测和病原学检测工作方案。", ["公共卫生", "传染病"]),
        ("突发公共卫生事件应急预案", "事件分级、响应程序、部门职责和信息报送要求。", ["公共卫生", "应急"]),
    ],
    "YY1": [
        (
            "大型设备对外共享使用管理办法",
            "院外单位申请使用闲置设备的条件、预约流程、收费和安全责任。",
            ["设备共享", "闲置设备"],
        ),
        ("检查检验结果互认实施细则", "本院执行检查检验结果互认的项目清单和操作流程。", ["医疗", "数据共享"]),
    ],
    "DX": [
        ("科研数据管理与共享办法", "科研数据汇交、保存、共享和使用的规定。", ["科研", "数据共享"]),
        ("教师教学资源共享平台使用手册", "课程资源上传、共享和引用的操作说明。", ["教育", "知识共享"]),
    ],
    "DXXX": [
        ("统一身份认证接入规范", "校内外系统接入统一身份认证（CAS/OIDC）的技术要求。", ["统一身份认证", "接口"]),
        ("网络安全事件应急处置流程", "安全事件分级、报告和处置流程。", ["网络安全", "应急"]),
    ],
    "DSJ": [
        ("公共数据分类分级指南", "公共数据的分类方法、一般/重要/核心三级分级标准和示例。", ["数据安全", "分级分类"]),
        ("政务数据共享交换平台接入指南", "部门系统接入共享交换平台的申请、联调和上线流程。", ["数据共享", "接口"]),
        ("政务信息资源目录编制规范", "资源名称、摘要、共享类型、共享条件和更新周期的填写要求。", ["数据目录", "制度"]),
    ],
}

# Topics for the periodic reports each department writes; the generator picks year and quarter.
REPORT_TOPICS = {
    "BGT": ["政务公开工作", "12345热线运行", "重点工作督办", "政务服务“好差评”"],
    "SWJ": ["税收收入", "纳税服务", "发票使用", "税务稽查"],
    "RSJ": ["就业形势", "人才引进", "劳动保障监察"],
    "SBZX": ["社保基金运行", "参保扩面", "医保基金稽核"],
    "SJJ": ["市场主体发展", "食品安全抽检", "特种设备安全", "消费投诉"],
    "WJW": ["医疗服务运行", "基层卫生", "医疗质量"],
    "CDC": ["传染病疫情", "预防接种", "健康教育"],
    "YY1": ["医疗质量与安全", "大型设备使用效率", "医保费用控制"],
    "DX": ["科研项目", "教学质量", "科研仪器开放共享"],
    "DXXX": ["信息化建设", "网络安全态势"],
    "DSJ": ["数据共享交换", "公共数据开放", "电子证照应用", "数据安全"],
}

# Notices: title, tags. Public-health ones come from 疾控中心 and 卫健委.
NOTICES = {
    "BGT": [
        ("关于开展政务信息资源目录年度更新工作的通知", ["数据目录"]),
        ("关于做好春节期间值班值守工作的通知", ["值班"]),
        ("关于召开全市数据共享工作推进会的通知", ["数据共享"]),
    ],
    "SWJ": [
        ("关于办理年度个人所得税综合所得汇算清缴的公告", ["纳税"]),
        ("关于优化社保费缴费基数申报流程的通知", ["纳税", "社保", "缴费基数"]),
    ],
    "RSJ": [("关于发放稳岗返还资金的通知", ["就业", "社保"])],
    "SBZX": [
        ("关于开展年度社保缴费基数申报核定工作的通知", ["社保", "缴费基数"]),
        ("关于调整退休人员基本养老金的通知", ["社保", "养老"]),
    ],
    "SJJ": [
        ("关于全面推行电子营业执照的公告", ["营业执照", "电子证照"]),
        ("关于开展电梯安全专项检查的通知", ["安全生产", "设备"]),
    ],
    "WJW": [
        ("关于做好秋冬季传染病防控工作的通知", ["公共卫生", "传染病"]),
        ("关于推进检查检验结果互认的通知", ["医疗", "数据共享"]),
    ],
    "CDC": [
        ("流感流行季防控健康提示", ["公共卫生", "传染病"]),
        ("关于开展适龄儿童疫苗查漏补种的通知", ["公共卫生", "疫苗"]),
        ("高温天气防暑降温健康提示", ["公共卫生"]),
        ("诺如病毒感染聚集性疫情防控提示", ["公共卫生", "传染病"]),
    ],
    "YY1": [
        ("关于64排CT夜间时段对外共享的公告", ["设备共享", "闲置设备"]),
        ("关于门诊信息系统升级期间暂停部分服务的通知", ["医疗"]),
    ],
    "DX": [("关于科研仪器共享平台试运行的通知", ["设备共享", "科研"])],
    "DXXX": [("关于统一身份认证系统升级的通知", ["统一身份认证"])],
    "DSJ": [
        ("关于数据共享交换平台接口切换的通知", ["数据共享", "接口"]),
        ("关于开展数据共享质量评估的通知", ["数据共享", "评估"]),
    ],
}

# Projects and the milestones their progress updates report, in order.
PROJECTS = {
    "DSJ": {
        "一网通办": [
            "完成企业开办、社保登记、税务登记三类事项的流程梳理",
            "营业执照信息与税务登记信息实现实时共享",
            "社保缴费基数核定接入税务工资数据比对",
            "上线“一件事一次办”首批20个主题",
            "电子证照免提交覆盖120个事项",
            "完成全流程网办率评估",
        ],
        "政务数据共享交换平台升级": [
            "完成平台容量评估和接口规范修订",
            "11个部门完成新版接口联调",
            "上线数据调用全程留痕和异常告警",
            "完成等保三级测评",
        ],
    },
    "SBZX": {
        "税务社保数据对接": [
            "与税务局确定交换字段和频率",
            "完成测试环境联调，比对差异率1.8%",
            "正式切换为接口实时核验，不再要求单位重复报送工资表",
        ],
    },
    "SJJ": {
        "电子营业执照“一照通行”": [
            "电子营业执照在12个部门完成核验对接",
            "银行开户和公积金开户支持电子营业执照",
            "纸质营业执照复印件要求全面取消",
        ],
    },
    "YY1": {
        "智慧医院建设": [
            "完成电子病历系统应用水平五级评审准备",
            "设备共享预约系统上线，对外开放CT、MRI夜间时段",
            "检查检验结果互认接入全市平台",
        ],
    },
    "DXXX": {
        "智慧校园": [
            "统一身份认证覆盖全部业务系统",
            "数据中台汇聚教务、人事、科研数据",
            "科研仪器共享预约对校外开放",
        ],
    },
    "BGT": {
        "政务服务“好差评”体系": [
            "制定评价指标和差评整改流程",
            "12345热线工单与好差评系统打通",
            "按月通报各部门评价结果",
        ],
    },
    "SWJ": {
        "金税工程推广应用": [
            "完成数电发票全面推广",
            "与市场监管实现登记信息“一键同步”",
        ],
    },
}

# Links to external systems: title, url, summary, tags
LINKS = {
    "DSJ": [
        (
            "政务数据共享交换平台",
            "https://exchange.gov.example.cn/",
            "部门之间的数据接口申请、调用和监控入口。",
            ["数据共享", "接口"],
        ),
        ("一网通办政务服务网", "https://zwfw.gov.example.cn/", "企业和群众网上办事的统一入口。", ["一网通办"]),
        ("公共数据开放平台", "https://data.gov.example.cn/", "面向社会开放的公共数据集。", ["数据开放"]),
    ],
    "SWJ": [("电子税务局", "https://etax.example.cn/", "企业网上申报纳税、发票开具入口。", ["纳税"])],
    "SBZX": [
        ("社保经办网上服务大厅", "https://si.example.cn/", "参保登记、缴费基数申报和待遇申领网上办理。", ["社保"])
    ],
    "SJJ": [
        ("企业登记全程电子化平台", "https://qydj.example.cn/", "营业执照设立、变更、注销全程网上办理。", ["营业执照"])
    ],
    "YY1": [
        ("大型设备共享预约系统", "https://yy1.example.cn/share/", "院外单位预约CT、MRI等设备闲置时段。", ["设备共享"])
    ],
    "DX": [
        (
            "科研仪器共享平台",
            "https://instruments.univ.example.cn/",
            "全校大型科研仪器预约和收费结算。",
            ["设备共享", "科研"],
        )
    ],
    "DXXX": [("统一身份认证门户", "https://sso.univ.example.cn/", "校内系统单点登录入口。", ["统一身份认证"])],
    "BGT": [("12345 政务服务热线工单系统", "https://12345.gov.example.cn/", "承办部门接收和办结热线工单。", ["12345"])],
}

# Grants of conditional datasets (the request process comes later): dataset title, owner code,
# grantee ("dept", code) or ("user", username), purpose, days valid
GRANTS = [
    ("纳税人登记信息", "SWJ", ("dept", "SBZX"), "社会保险缴费基数核定，核验参保单位登记状态", 365),
    ("企业职工工资薪金所得个税申报汇总", "SWJ", ("dept", "SBZX"), "缴费基数核定时比对单位工资总额", 365),
    ("社保缴费基数核定结果", "SBZX", ("dept", "SWJ"), "社会保险费征收", 365),
    ("住院床位实时占用情况", "YY1", ("user", "chengchen"), "流感流行季医疗资源研判", 90),
    ("毕业生就业去向数据", "DX", ("dept", "RSJ"), "高校毕业生就业形势分析", 180),
    ("12345 政务服务热线工单", "BGT", ("dept", "DSJ"), "政务服务“好差评”数据分析", 180),
    ("特种设备检验检测信息", "SJJ", ("dept", "YY1"), "院内电梯和压力容器安全管理", 365),
]

# Documents that get a small text attachment: title, file name
ATTACHMENTS = [
    ("税务与社保数据交换接口规范", "交换字段说明.md"),
    ("社保缴费基数核定工作规程", "核定流程图说明.md"),
    ("大型设备对外共享使用管理办法", "设备共享预约须知.txt"),
    ("政务信息资源共享管理办法", "共享管理办法全文.md"),
    ("电子营业执照跨部门应用指南", "核验接口示例.md"),
    ("公共数据分类分级指南", "分级示例.txt"),
]

# Sentences the generator draws on for bodies.
SHARING_NOTES = [
    "本资源按“谁提供、谁负责，谁使用、谁负责”的原则管理，使用中发现数据问题请及时反馈资源管理员。",
    "数据只采集一次，各部门共享复用，办事时不再要求群众和企业重复提交。",
    "调用情况全程留痕，数据提供部门可随时查看使用记录。",
    "如需更高更新频率或增加字段，请在平台提交需求，由资源管理员统一评估。",
]
BENEFITS = [
    "减少重复数据录入，业务人员不再手工比对纸质材料",
    "办理时限由5个工作日压缩到1个工作日",
    "企业和群众少跑腿，材料精简约40%",
    "各部门口径一致，统计数据不再“打架”",
    "决策时可以直接看到跨部门的最新数据",
    "闲置资源得到利用，避免重复采购",
]
PROBLEMS = [
    "部分部门接口尚未完成改造，仍以文件方式报送",
    "历史数据存在编码不一致，需要清洗",
    "个别字段更新不及时，已通知数据提供部门整改",
    "部分基层人员对平台操作不熟悉，需要加强培训",
    "敏感字段的脱敏规则需进一步细化",
]
NEXT_STEPS = [
    "组织业务培训，编写常见问题解答",
    "与提供部门确认数据更新频率",
    "完成剩余接口联调并开展压力测试",
    "建立数据质量月度通报机制",
    "收集使用部门反馈，优化共享条件",
]
REPORT_POINTS = [
    "总体运行平稳，主要指标同比改善",
    "跨部门数据调用量持续增长",
    "按期完成年度计划的阶段性任务",
    "发现的问题已建立台账，逐项销号",
    "群众满意度保持在95%以上",
    "与相关部门建立了周例会沟通机制",
]

# The history of requests (see generator._plan_requests): why people of other departments ask for
# conditional resources (purpose, intended use), and what the stewards and requesters say on the way.
REQUEST_PURPOSES = [
    ("核定参保单位缴费基数时核验企业登记状态。", "verification"),
    ("院内统计分析，用于年度工作报告。", "statistics"),
    ("课题研究需要。", "research"),
    ("比对参保人员信息，减少群众重复提交材料。", "verification"),
    ("办理企业开办“一件事”时核验市场主体信息。", "public_service"),
    ("编制季度经济运行分析报告，供市政府决策参考。", "decision"),
    ("开展跨部门联合抽查，确定抽查对象名单。", "verification"),
    ("流行季医疗资源调度研判。", "decision"),
    ("核对就业补贴申领人员的参保和纳税状态。", "verification"),
    ("梳理公共数据目录，核对数据项和更新频率。", "other"),
    ("政务服务“好差评”差评整改跟踪。", "public_service"),
    ("人才引进政策实施效果评估。", "statistics"),
]
APPROVAL_NOTES = [
    "同意，按约定用途使用。",
    "同意。请按季度反馈使用情况。",
    "同意，仅限申请用途，到期自动失效。",
    "同意。调用情况将全程留痕。",
]
NARROWED_NOTES = {  # by what the approval narrowed
    "fields+period_days": "同意，但只开放核验所需字段，期限缩短。",
    "fields": "同意，但只开放核验所需字段。",
    "period_days": "部分同意：先开放较短期限，到期后视使用情况续期。",
}
INFO_QUESTIONS = [
    "请说明具体使用字段和数据保存期限。",
    "请补充使用部门的数据安全负责人和联系方式。",
    "请说明是否需要明细数据，汇总数据能否满足需要。",
]
INFO_ANSWERS = [
    "只需要核验字段，数据不落地，核验完成即删除。",
    "数据安全负责人为本部门资源管理员，联系电话已在平台登记。",
    "汇总数据不能满足逐户核验的需要，申请明细数据。",
]
REJECT_REASONS = [
    "用途与共享条件不符，请通过统计部门获取汇总数据。",
    "申请字段超出履职需要，请缩小范围后重新申请。",
    "该数据正在核查整改，暂不对外共享，整改完成后另行通知。",
]
REVOKE_REASONS = [
    "使用部门业务调整，不再需要该数据。",
    "发现超出约定用途使用，暂停授权并约谈整改。",
    "数据项口径调整，原授权收回，请按新目录重新申请。",
]
EDIT_NOTES = [
    "根据使用部门反馈补充说明",
    "更新联系人和办理渠道",
    "修订数据口径说明",
    "补充最新一期数据",
    "订正文字错误",
]
