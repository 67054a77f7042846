"""The organization of the fan-out benchmark, made through Sharehub's services in a child process: one
department whose N members each follow (through the department's subscription) an open notice of another
department, and a token for each member's stream and for the notice's steward."""

from __future__ import annotations

import json
import sys
from pathlib import Path


def prepare(subscribers: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.utils import timezone

    from sharehub.catalog import services as catalog
    from sharehub.feeds import follows
    from sharehub.org import services as org
    from sharehub.org.models import Membership

    call_command("migrate", verbosity=0)
    owner = org.create_department(None, name="发布部门", code="FB")
    audience = org.create_department(None, name="订阅部门", code="DY")
    steward = org.create_person(None, username="fb-steward", display_name="发布人", password=None)
    org.set_membership(None, steward, owner, Membership.Role.STEWARD)
    head = org.create_person(None, username="dy-head", display_name="订阅部门负责人", password=None)
    org.set_membership(None, head, audience, Membership.Role.HEAD)
    user_model = get_user_model()
    people = user_model.objects.bulk_create(
        [
            user_model(username=f"dy{n:05d}", display_name=f"订阅人{n}", date_joined=timezone.now())
            for n in range(subscribers)
        ]
    )
    Membership.objects.bulk_create([Membership(user=p, department=audience) for p in people])
    notice = catalog.create_resource(
        steward, owner_department=owner, kind="notice", publish=True, title="扇出基准测试通知", body="正文"
    )
    follows.subscribe_department(head, audience.pk, "resource", notice.pk)
    tokens = [org.issue_token(None, p, "fanout")[1] for p in user_model.objects.filter(username__startswith="dy0")]
    return {"code": notice.code, "steward": org.issue_token(None, steward, "fanout")[1], "tokens": tokens}


if __name__ == "__main__":
    import django

    django.setup()
    Path(sys.argv[2]).write_text(json.dumps(prepare(int(sys.argv[1]))))
