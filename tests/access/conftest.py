"""Shared fixtures of the access-process tests: a conditional document and dataset of 税务局."""

from __future__ import annotations

import pytest

from sharehub.access import services
from sharehub.access.models import AccessRequest
from tests import factories

MARKER = "SECRET-BODY-授权后可见"
FIELDS = [
    {"name": "taxpayer_id", "type": "text", "sensitivity": "sensitive", "description": "纳税人识别号"},
    {"name": "amount", "type": "decimal", "sensitivity": "internal", "description": "金额"},
    {"name": "district", "type": "text", "sensitivity": "public", "description": "区县"},
]


@pytest.fixture
def conditional(org_units, people):
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        title="企业纳税明细",
        sharing_type="conditional",
        body=f"正文 {MARKER}",
        conditions="仅用于社保缴费基数核验",
        terms_of_use="不得向组织外提供；到期删除副本。",
        max_grant_days=60,
    )


@pytest.fixture
def dataset(org_units, people):
    return factories.resource(
        org_units["tax"],
        by=people["tax_steward"],
        title="纳税申报数据集",
        kind="dataset",
        sharing_type="conditional",
        body=f"数据 {MARKER}",
        dataset_fields=FIELDS,
    )


def make_request(person, resource, **kwargs) -> AccessRequest:
    values = {"purpose": "核验", "use_category": "verification", "period_days": 30, "accept_terms": True}
    values.update(kwargs)
    return services.create_request(person, resource, **values)
