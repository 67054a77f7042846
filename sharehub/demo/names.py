"""Made-up but real-looking companies, people and addresses of the demo city, and the ways another
department writes the same company's name (for one-source detection: 一数一源)."""

from __future__ import annotations

import random

DISTRICTS = ("鼓楼", "台江", "仓山", "晋安", "马尾", "长乐", "闽侯", "连江", "福清", "永泰")
ROADS = ("五四路", "八一七北路", "华林路", "湖东路", "杨桥中路", "工业路", "福新中路", "六一北路", "江滨西大道",
         "连江北路", "金山大道", "南江滨东大道", "首山路", "福马路", "长乐中路")  # fmt: skip
BRAND = (
    "华兴安泰宏达鑫源盛恒通海天成瑞祥丰金信德永利嘉明远博新创汇众合和闽榕江山峰岳林森荣昌隆顺康健美佳"
    "优品智慧云聚力行远航星辰光耀晨曦锦绣鸿福乐腾飞龙凤麒麟宝鼎铭辉煌中正道立诚善同舟济民生万象千帆"
)
INDUSTRIES = ("科技", "信息技术", "贸易", "建筑工程", "餐饮管理", "物流", "医药", "电子", "机械制造", "文化传媒",
              "环保科技", "食品", "服装", "房地产开发", "物业管理", "教育咨询", "网络科技", "新能源", "汽车销售",
              "装饰设计")  # fmt: skip
LATIN = ("E", "K", "AB", "IT", "3D", "5G", "V", "M")
LEGAL_FORMS = ("有限公司", "有限公司", "有限公司", "有限责任公司", "股份有限公司")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘于蒋蔡余杜叶程苏魏吕丁"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红玉兰海波宁欣怡子涵浩然梓萱晨阳雨桐"
# One character read or typed as another: how a hand-copied name differs from the registered one.
_WRITTEN = "华兴达源盛恒通成瑞祥丰金信德利嘉明远博创汇合林荣康美智"
_TYPED = "化星大元胜衡同诚锐翔峰今新得力佳铭源搏闯会和霖容慷媄志"
LOOKALIKE = dict(zip(_WRITTEN, _TYPED, strict=True))
_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)} | {0x20: 0x3000}


def company_names(rng: random.Random, count: int) -> list[str]:
    """`count` different company names: district, brand (字号), industry, legal form."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        brand = "".join(rng.sample(BRAND, 2)) if rng.random() < 0.9 else rng.choice(LATIN) + rng.choice(BRAND)
        stem = rng.choice(DISTRICTS) + brand + rng.choice(INDUSTRIES)
        if stem in seen:
            continue
        seen.add(stem)
        names.append(stem + rng.choice(LEGAL_FORMS))
    return names


def person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))


def address(rng: random.Random) -> str:
    return f"福州市{rng.choice(DISTRICTS)}区{rng.choice(ROADS)}{rng.randint(1, 399)}号"


def written_differently(rng: random.Random, name: str) -> tuple[str, str]:
    """The same company as another department typed it: (the name, how it differs)."""
    how = rng.choice(("legal_form", "spaces", "full_width", "typo", "legal_form_typo"))
    text = name
    if how in ("legal_form", "legal_form_typo"):
        for long, short in (("股份有限公司", "股份公司"), ("有限责任公司", "有限公司"), ("有限公司", "公司")):
            if text.endswith(long):
                text = text[: -len(long)] + short
                break
    if how in ("typo", "legal_form_typo"):
        spots = [i for i, c in enumerate(text) if c in LOOKALIKE]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + LOOKALIKE[text[i]] + text[i + 1 :]
    if how == "spaces":
        i = rng.randrange(2, len(text) - 2)
        text = f" {text[:i]} {text[i:]}"
    if how == "full_width":
        ascii_part = any(c.isascii() for c in text)
        text = text.translate(_FULL_WIDTH) if ascii_part else f"（{text[:2]}）{text[2:]}　"
    return text, how
