"""Records of three demo datasets, loaded on the day of loading through `exchange.services.upsert`:

* 税务局's 纳税人登记信息: about 3,000 companies (credit code, name, legal person and their ID number,
  phone, address, registered capital, registration date, status, a secret risk note);
* 社会保险事业管理中心's 社保缴费基数核定结果: about 2,500 insured units, 2,000 of them the same companies
  (same credit codes; some names written differently), whose credit code and name name 纳税人登记信息 as
  their authoritative source: the one-source page has something to show;
* 卫生健康委员会's 患者就诊记录: about 2,000 patients, readable by other departments only with the
  patient's consent (subject: the patient's ID number), and consents of some of them for 社保中心, the
  hospital and 疾控中心, some withdrawn.

Everything comes from `random.Random(seed)`; `scale` shrinks the counts for tests."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from sharehub.catalog.models import Resource
from sharehub.exchange import schema, services
from sharehub.exchange.models import Consent, Dataset
from sharehub.exchange.storage import Codec
from sharehub.exchange.types import make_credit_code, make_resident_id
from sharehub.org.models import Department, User

from . import names

TAX, UNITS, PATIENTS = "纳税人登记信息", "社保缴费基数核定结果", "患者就诊记录"
COMPANIES, SHARED, UNITS_ONLY, PATIENT_COUNT = 3000, 2000, 500, 2000
RISK_NOTES = ("", "", "", "", "连续三个月零申报，需核实经营情况", "发票开具异常，已列入重点监控",
              "存在欠税，已下达催缴通知")  # fmt: skip
HOSPITALS = ("市第一人民医院", "市第二医院", "市中医院", "市妇幼保健院", "鼓楼区社区卫生服务中心")
CLINICS = ("内科", "外科", "儿科", "妇产科", "眼科", "口腔科", "皮肤科", "急诊科", "康复医学科")
DIAGNOSES = (("J06.9", "急性上呼吸道感染"), ("I10", "原发性高血压"), ("E11.9", "2型糖尿病"), ("K29.7", "胃炎"),
             ("M54.5", "腰痛"), ("J45.9", "哮喘"), ("S93.4", "踝关节扭伤"), ("H52.1", "近视"))  # fmt: skip
CONSENTS = (("SBZX", Consent.Purpose.HPAYMT), ("YY1", Consent.Purpose.TREAT), ("CDC", Consent.Purpose.PUBHLTH),
            ("YY1", Consent.Purpose.HRESCH))  # fmt: skip


def _count(full: int, scale: float) -> int:
    return max(20, round(full * scale))


def _day(rng: random.Random, first: date, last: date) -> str:
    return (first + timedelta(days=rng.randrange((last - first).days + 1))).isoformat()


def load(made: dict[str, Resource], stewards: dict[str, User], seed: int, scale: float, now: datetime) -> dict:
    """Schemas with record keys, then the records and consents of the datasets that were made (a small
    demo may lack some). Returns {title: records loaded}."""
    rng = random.Random(seed * 31 + 7)
    today = now.date()
    loaded: dict[str, int] = {}
    companies = names.company_names(rng, _count(COMPANIES, scale) + _count(UNITS_ONLY, scale))
    codes = sorted({make_credit_code(rng) for _ in range(len(companies) * 2)})[: len(companies)]
    rng.shuffle(codes)
    taxed = list(zip(codes[: _count(COMPANIES, scale)], companies, strict=False))
    tax = made.get(TAX)
    if tax is not None:
        schema.change_dataset(stewards["SWJ"], tax, tax.dataset_fields, key_fields=["unified_credit_code"])
        rows = []
        for code, name in taxed:
            rows.append(
                {
                    "unified_credit_code": code,
                    "taxpayer_name": name,
                    "legal_representative": names.person_name(rng),
                    "legal_rep_id_number": make_resident_id(rng, rng.choice(("350102", "350103", "350104", "350111"))),
                    "contact_phone": "1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9)),
                    "registered_address": names.address(rng),
                    "registered_capital": str(rng.choice((10, 50, 100, 200, 500, 1000, 3000)) * rng.randint(1, 5)),
                    "registration_date": _day(rng, date(2000, 1, 1), today - timedelta(days=30)),
                    "taxpayer_status": rng.choices(("正常", "非正常", "注销"), weights=(90, 6, 4))[0],
                    "risk_note": rng.choice(RISK_NOTES) or None,
                }
            )
        loaded[TAX] = services.upsert(stewards["SWJ"], tax, rows, via="demo").inserted
    units = made.get(UNITS)
    if units is not None:
        fields = [dict(f) for f in units.dataset_fields]
        if tax is not None:
            sources = {"unified_credit_code": "unified_credit_code", "unit_name": "taxpayer_name"}
            for item in fields:
                if item["name"] in sources:
                    item["source"], item["source_field"] = tax.pk, sources[item["name"]]
        schema.change_dataset(stewards["SBZX"], units, fields, key_fields=["unified_credit_code"])
        shared = rng.sample(taxed, min(_count(SHARED, scale), len(taxed)))
        others = list(zip(codes[len(taxed) :], companies[len(taxed) :], strict=False))
        rows = []
        for code, name in shared + others:
            written = names.written_differently(rng, name)[0] if rng.random() < 0.3 else name
            insured = rng.randint(3, 300)
            rows.append(
                {
                    "unified_credit_code": code,
                    "unit_name": written.strip(),
                    "insured_count": insured,
                    "contribution_base_total": str(insured * rng.randrange(4000, 15000, 100)),
                    "verified_at": _day(rng, today - timedelta(days=365), today - timedelta(days=1)),
                }
            )
        loaded[UNITS] = services.upsert(stewards["SBZX"], units, rows, via="demo").inserted
    patients = made.get(PATIENTS)
    if patients is not None:
        loaded[PATIENTS] = _patients(rng, patients, stewards["WJW"], scale, now)
    return loaded


def _patients(rng: random.Random, resource: Resource, steward: User, scale: float, now: datetime) -> int:
    schema.change_dataset(
        steward,
        resource,
        resource.dataset_fields,
        key_fields=["patient_id"],
        consent_required=True,
        subject_field="patient_id",
    )
    today = now.date()
    ids = list(dict.fromkeys(make_resident_id(rng, rng.choice(("350102", "350104", "350121"))) for _ in range(
        _count(PATIENT_COUNT, scale))))  # fmt: skip
    rows = []
    for patient in ids:
        code, diagnosis = rng.choice(DIAGNOSES)
        rows.append(
            {
                "patient_id": patient,
                "patient_name": names.person_name(rng),
                "hospital": rng.choice(HOSPITALS),
                "clinic": rng.choice(CLINICS),
                "visit_date": _day(rng, today - timedelta(days=700), today - timedelta(days=1)),
                "diagnosis_code": code,
                "diagnosis": diagnosis,
            }
        )
    inserted = services.upsert(steward, resource, rows, via="demo").inserted
    dataset = Dataset.objects.get(pk=resource.pk)
    codec = Codec(dataset, list(dataset.fields.all()))
    subject = codec.by_name["patient_id"]
    departments = {d.code: d for d in Department.objects.filter(code__in={c for c, _p in CONSENTS})}
    consents = []
    for patient in rng.sample(ids, len(ids) * 2 // 5):
        for code, purpose in rng.sample(CONSENTS, rng.randint(1, 2)):
            start = now - timedelta(days=rng.randint(1, 400))
            withdrawn = start + timedelta(days=rng.randint(1, 30)) if rng.random() < 0.1 else None
            consents.append(
                Consent(
                    dataset=dataset,
                    subject=codec.digest(subject, patient),
                    subject_hint=f"{patient[:3]}***********{patient[-4:]}",
                    grantee_department=departments[code],
                    purpose=purpose,
                    valid_from=start,
                    valid_until=start + timedelta(days=rng.choice((180, 365, 730))),
                    withdrawn_at=withdrawn if withdrawn is not None and withdrawn < now else None,
                    created_by=steward,
                )
            )
    Consent.objects.bulk_create(consents, batch_size=500)
    return inserted
