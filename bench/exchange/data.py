"""The benchmark's rows: N residents × 10 columns, the same for a given N on every run.

`id_no` (a resident ID, sensitive: encrypted at rest, the record key) is the encrypted field; `name`
and `phone` are masked (partial) for a grantee whose grant does not name them; `district` is the
plain field the filtered walk uses (one district in ten)."""

from __future__ import annotations

import csv
import datetime as dt
import random
from collections.abc import Iterator
from pathlib import Path

from sharehub.exchange.types import resident_id_check

SEED = 20261206
DISTRICTS = ("鼓楼区", "台江区", "仓山区", "晋安区", "马尾区", "长乐区", "闽侯县", "连江县", "罗源县", "闽清县")
FILTER_DISTRICT = DISTRICTS[3]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志红文斌玉梅春海燕晨宇浩然欣怡子涵梓萱"
STREETS = ("五四路", "八一七路", "湖东路", "东街", "杨桥路", "工业路", "福飞路", "华林路", "六一路", "江滨大道")
BIRTH_START = dt.date(1940, 1, 1)

FIELDS = [
    {"name": "id_no", "type": "resident_id", "sensitivity": "sensitive", "masking": "partial", "required": True,
     "label_zh": "公民身份号码"},
    {"name": "name", "type": "text", "sensitivity": "internal", "masking": "partial", "label_zh": "姓名"},
    {"name": "phone", "type": "phone", "sensitivity": "internal", "masking": "partial", "label_zh": "联系电话"},
    {"name": "district", "type": "enum", "sensitivity": "public", "choices": list(DISTRICTS), "label_zh": "所属区县"},
    {"name": "street", "type": "text", "sensitivity": "internal", "label_zh": "住址"},
    {"name": "birth_date", "type": "date", "sensitivity": "public", "label_zh": "出生日期"},
    {"name": "income", "type": "decimal", "sensitivity": "internal", "label_zh": "月收入"},
    {"name": "household", "type": "integer", "sensitivity": "internal", "label_zh": "家庭人口"},
    {"name": "insured", "type": "boolean", "sensitivity": "internal", "label_zh": "是否参保"},
    {"name": "registered", "type": "date", "sensitivity": "public", "label_zh": "登记日期"},
]  # fmt: skip
COLUMNS = [f["name"] for f in FIELDS]
KEY_FIELDS = ["id_no"]
ENCRYPTED = "id_no"
MASKED = ("name", "phone")
GRANTED = ["id_no", "district", "street", "income"]  # the grant names these; name and phone stay masked


def row(n: int) -> list:
    """Row `n` (0-based) as the CSV holds it. The ID number is unique by construction: a birth date per
    thousand rows and a sequence number within it."""
    rng = random.Random(SEED * 1_000_003 + n)
    birth = BIRTH_START + dt.timedelta(days=n // 1000)
    first17 = f"350102{birth:%Y%m%d}{n % 1000:03d}"
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    registered = dt.date(2010, 1, 1) + dt.timedelta(days=rng.randrange(5000))
    return [
        first17 + resident_id_check(first17),
        SURNAMES[rng.randrange(len(SURNAMES))] + given,
        f"13{rng.randrange(10**9):09d}",
        DISTRICTS[n % len(DISTRICTS)],
        f"{STREETS[rng.randrange(len(STREETS))]}{rng.randrange(1, 300)}号",
        birth.isoformat(),
        f"{rng.randrange(1500, 40000)}.{rng.randrange(100):02d}",
        rng.randrange(1, 7),
        "是" if rng.random() < 0.9 else "否",
        registered.isoformat(),
    ]


def rows(count: int) -> Iterator[list]:
    for n in range(count):
        yield row(n)


def write_csv(path: Path, count: int) -> Path:
    """The CSV file both imports read (UTF-8, header of field names); written once per size."""
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    with partial.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        writer.writerows(rows(count))
    partial.rename(path)
    return path


def lookup_values(count: int, how_many: int) -> list[str]:
    """Distinct ID numbers spread over the whole set, for the key lookups."""
    step = max(1, count // how_many)
    return [row(n)[0] for n in range(0, count, step)][:how_many]
