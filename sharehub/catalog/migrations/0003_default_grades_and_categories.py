from django.db import migrations

GRADES = [(1, "一般", "General: harm is slight if it leaks."), (2, "重要", "Important: harm to the organization if it leaks."),
          (3, "核心", "Core: serious harm to the organization or the public if it leaks.")]
ROOT_CATEGORIES = ["基础信息资源", "主题信息资源", "部门信息资源"]


def add_defaults(apps, schema_editor):
    DataGrade = apps.get_model("catalog", "DataGrade")
    Category = apps.get_model("catalog", "Category")
    for level, name, description in GRADES:
        DataGrade.objects.get_or_create(level=level, defaults={"name": name, "description": description})
    for position, name in enumerate(ROOT_CATEGORIES):
        Category.objects.get_or_create(parent=None, name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_initial")]
    operations = [migrations.RunPython(add_defaults, migrations.RunPython.noop)]
