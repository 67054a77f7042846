"""The index format of each entry (`documents.INDEX_FORMAT`). Entries indexed before this migration get
NULL: format 2 adds the pinyin of words side by side (shebaojiaofei, sbjf find 社保缴费), which they lack,
so `sharehub reindex --check` names them and `sharehub reindex` rebuilds them (searches work meanwhile,
without those terms). A plain nullable column: SQLite adds it in place, keeping the entries' triggers."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("search", "0005_facet_table")]

    operations = [
        migrations.AddField(
            model_name="resourceentry", name="index_format", field=models.SmallIntegerField(blank=True, null=True)
        ),
    ]
