"""The organization of the fan-out benchmark, made through Sharehub's services in a child process: one
department whose N members each follow (through the department's subscription) an open notice of another
department, and a token for each member's stream and for the notice's steward.

    python -m bench.fanout.setup N fixtures.json            # the organization (after migrating)
    python -m bench.fanout.setup webhooks W URL out.json    # W endpoints URL/0 .. URL/W-1, their secrets
    python -m bench.fanout.setup pending                    # prints how many deliveries wait to be sent"""

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


def register_webhooks(count: int, base_url: str) -> dict:
    """`count` Standard Webhooks endpoints for the notice's edits (`resource.updated`), at `base_url`/0 ..
    /count-1 on this machine: an organization admin registers them, since only an admin lets an endpoint
    reach a loopback address (`allow_private`). The admin owns them, so the policy lets them see the notice."""
    from sharehub.feeds import webhooks
    from sharehub.org import services as org

    admin = org.create_person(None, username="wh-admin", display_name="管理员", password=None, is_org_admin=True)
    secrets = {}
    for n in range(count):
        endpoint, secret = webhooks.register(
            admin, url=f"{base_url}/{n}", event_types=["resource.updated"], allow_private=True,
            description=f"fan-out benchmark receiver {n}",
        )  # fmt: skip
        secrets[str(n)] = {"secret": secret, "endpoint": endpoint.pk}
    return {"endpoints": secrets}


def pending() -> int:
    from sharehub.feeds.models import WebhookDelivery

    return WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING).count()


if __name__ == "__main__":
    import django

    django.setup()
    if sys.argv[1] == "webhooks":
        Path(sys.argv[4]).write_text(json.dumps(register_webhooks(int(sys.argv[2]), sys.argv[3])))
    elif sys.argv[1] == "pending":
        print(pending())
    else:
        Path(sys.argv[2]).write_text(json.dumps(prepare(int(sys.argv[1]))))
