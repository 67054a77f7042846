from sharehub.catalog.models import Resource
from sharehub.search.queries import search
from tests import factories


def test_search_finds_chinese_english_and_pinyin(org_units, people, indexed):
    tax = org_units["tax"]
    factories.resource(
        tax, title="社保缴费基数调整通知", summary="关于2024年度社会保险缴费基数", body="Quarterly report on payroll"
    )
    factories.resource(
        tax,
        title="营业执照核验",
        summary="企业登记",
        body="秘密内容 secretword",
        sharing_type=Resource.SharingType.CONDITIONAL,
    )
    indexed()
    user = people["health_member"]
    assert [h.resource.title for h in search(user, "社保").hits] == ["社保缴费基数调整通知"]
    assert [h.resource.title for h in search(user, "shebao").hits] == ["社保缴费基数调整通知"]
    assert [h.resource.title for h in search(user, "quarterly rep").hits] == ["社保缴费基数调整通知"]
    assert search(user, "secretword").total == 0
    assert search(people["admin"], "secretword").total == 1
    result = search(user, "营业执照")
    assert result.total == 1 and "秘密" not in result.hits[0].snippet.html
    assert search(user, "营业执照 -秘密").total == 1
    assert search(people["tax_member"], "营业执照 -秘密").total == 0
    print(result.facets)
