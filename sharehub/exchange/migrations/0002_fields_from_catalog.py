"""Move each resource's JSON field list (`catalog.Resource.dataset_fields`) into exchange's field rows,
with a first schema version; the reverse writes the list back."""

import re

from django.db import migrations

TYPE_ALIASES = {
    "text": "text", "string": "text", "str": "text", "varchar": "text", "char": "text", "文本": "text",
    "integer": "integer", "int": "integer", "bigint": "integer", "整数": "integer",
    "decimal": "decimal", "number": "decimal", "numeric": "decimal", "float": "decimal", "double": "decimal",
    "money": "decimal", "数值": "decimal", "金额": "decimal",
    "date": "date", "日期": "date",
    "datetime": "datetime", "timestamp": "datetime", "时间": "datetime",
    "boolean": "boolean", "bool": "boolean", "布尔": "boolean",
    "enum": "enum", "code": "enum", "枚举": "enum",
    "resident_id": "resident_id", "id_card": "resident_id", "身份证号": "resident_id",
    "credit_code": "credit_code", "uscc": "credit_code", "统一社会信用代码": "credit_code",
    "phone": "phone", "mobile": "phone", "电话": "phone",
    "email": "email", "邮箱": "email",
}  # fmt: skip
CJK = re.compile(r"[\u3400-\u9fff]")
MASK_BY_SENSITIVITY = {"sensitive": "partial", "secret": "hidden"}


def forward(apps, schema_editor):
    Resource = apps.get_model("catalog", "Resource")
    Dataset = apps.get_model("exchange", "Dataset")
    DatasetField = apps.get_model("exchange", "DatasetField")
    SchemaVersion = apps.get_model("exchange", "SchemaVersion")
    rows = Resource.objects.filter(kind="dataset") | Resource.objects.exclude(dataset_fields=[])
    for resource_id, raw_fields in rows.values_list("pk", "dataset_fields").iterator():
        dataset = Dataset.objects.create(resource_id=resource_id)
        made, seen = [], set()
        for item in raw_fields or []:
            item = {"name": item} if isinstance(item, str) else item
            if not isinstance(item, dict) or not item.get("name") or item["name"] in seen:
                continue
            seen.add(item["name"])
            label = str(item.get("label") or "").strip()[:100]
            sensitivity = item.get("sensitivity") or "internal"
            field = DatasetField(
                dataset=dataset,
                position=len(made) + 1,
                name=str(item["name"])[:64],
                label_zh=label if CJK.search(label) else "",
                label_en="" if CJK.search(label) else label,
                type=TYPE_ALIASES.get(str(item.get("type") or "text").strip().lower(), "text"),
                description=str(item.get("description") or "")[:300],
                sensitivity=sensitivity,
                masking=MASK_BY_SENSITIVITY.get(sensitivity, "none"),
            )
            made.append(field)
        DatasetField.objects.bulk_create(made)
        SchemaVersion.objects.create(dataset=dataset, number=1, fields=[_snapshot(f) for f in made], key_fields=[])


def _snapshot(field) -> dict:
    return {
        "name": field.name,
        "label_zh": field.label_zh,
        "label_en": field.label_en,
        "type": field.type,
        "required": field.required,
        "description": field.description,
        "sensitivity": field.sensitivity,
        "masking": field.masking,
        "choices": field.choices,
    }


def backward(apps, schema_editor):
    Resource = apps.get_model("catalog", "Resource")
    DatasetField = apps.get_model("exchange", "DatasetField")
    lists: dict[int, list] = {}
    for field in DatasetField.objects.order_by("dataset_id", "position"):
        lists.setdefault(field.dataset_id, []).append(
            {
                "name": field.name,
                "type": field.type,
                "description": field.description,
                "sensitivity": field.sensitivity,
                **({"label": field.label_zh or field.label_en} if field.label_zh or field.label_en else {}),
            }
        )
    for resource_id, fields in lists.items():
        Resource.objects.filter(pk=resource_id).update(dataset_fields=fields)


class Migration(migrations.Migration):
    dependencies = [
        ("exchange", "0001_initial"),
        ("catalog", "0009_draft_review"),
    ]

    operations = [migrations.RunPython(forward, backward)]
