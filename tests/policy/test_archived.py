"""An archived resource is shared only if it was published before: `can` and `visible` agree on it, and
a published row without a publish time (data older than that column) stays as visible as before."""

import pytest

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.policy.engine import Action, can, visible
from tests import factories

pytestmark = pytest.mark.django_db


def _both(actor, resource) -> tuple[bool, bool]:
    resource.refresh_from_db()
    return bool(can(actor, Action.VIEW, resource)), visible(actor).filter(pk=resource.pk).exists()


def test_archived_draft_and_published_row_without_publish_time():
    owner, other = factories.department("税务局", "SWJ"), factories.department("卫健委", "WJW")
    steward, outsider = factories.member(owner, "steward"), factories.member(other)
    draft = factories.resource(owner, by=steward, title="未发布草稿", publish=False)
    catalog.transition(steward, draft, "archive")
    assert _both(outsider, draft) == (False, False)
    assert _both(steward, draft) == (True, True)

    legacy = factories.resource(owner, by=steward, title="早期发布的资源")
    Resource.objects.filter(pk=legacy.pk).update(published_at=None)
    assert _both(outsider, legacy) == (True, True)
