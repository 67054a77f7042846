"""How following, email and webhooks read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from sharehub.events import describe
from sharehub.feeds.models import Follow, InboundHook, Mail, WebhookEndpoint
from sharehub.policy.engine import can, decide_owned


def _ids(ids: set[str]) -> list[int]:
    return [int(i) for i in ids if i.isdigit() and len(i) <= 18]


def _endpoints(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Webhooks by their description or address; linked for those who manage them (`decide_owned`)."""
    found = {}
    for pk, owner_id, department_id, url, description in WebhookEndpoint.objects.filter(pk__in=_ids(ids)).values_list(
        "pk", "owner_id", "department_id", "url", "description"
    ):
        link = reverse("feeds:webhook", args=[pk]) if decide_owned(viewer, owner_id, department_id) else ""
        found[str(pk)] = describe.Ref(description or url, "", link)
    return found


def _inbound_hooks(viewer, ids: set[str]) -> dict[str, describe.Ref]:
    """Inbound webhooks by name; linked for those who may connect systems to the account's department."""
    found = {}
    for hook in InboundHook.objects.filter(pk__in=_ids(ids)).select_related("account__service_owner"):
        owner = hook.account.service_owner
        link = reverse("feeds:inbound_hook", args=[hook.pk]) if owner and can(viewer, "connect", owner) else ""
        found[str(hook.pk)] = describe.Ref(hook.name, "", link)
    return found


def register() -> None:
    describe.register_area("follow", _("Follows"))
    describe.register_area("mail", _("Email"))
    describe.register_area("webhook", _("Webhooks"))
    describe.register_area("inbound", _("Inbound webhooks"))
    describe.register_target("feeds.webhookendpoint", _endpoints)
    describe.register_target("feeds.inboundhook", _inbound_hooks)

    describe.register("follow.created", _("Follow started"), _("%(actor)s started following %(target)s."))
    describe.register(
        "follow.changed", _("Follow changed"), _("%(actor)s changed how they follow %(target)s: %(delivery)s.")
    )
    describe.register("follow.removed", _("Follow stopped"), _("%(actor)s stopped following %(target)s."))
    describe.register(
        "follow.department_subscribed",
        _("Department subscribed"),
        _("%(actor)s subscribed %(departments)s to %(target)s."),
    )
    describe.register(
        "follow.department_unsubscribed",
        _("Department unsubscribed"),
        _("%(actor)s ended the subscription of %(departments)s to %(target)s."),
    )
    describe.register(
        "follow.mail_unsubscribed",
        _("Email unsubscribed"),
        _("%(actor)s unsubscribed from email (%(kind)s) through the link in it."),
    )
    describe.register(
        "mail.settings_changed",
        _("Email settings changed"),
        _("%(actor)s changed how they get what involves them: %(involved)s."),
    )
    describe.register(
        "webhook.registered", _("Webhook registered"), _("%(actor)s registered the webhook %(target)s to %(url)s.")
    )
    describe.register("webhook.changed", _("Webhook changed"), _("%(actor)s changed the webhook %(target)s."))
    describe.register(
        "webhook.secret_rotated",
        _("Webhook secret rotated"),
        _("%(actor)s rotated the secret of the webhook %(target)s; the old one signs too until %(previous_until)s."),
    )
    describe.register(
        "webhook.redelivered",
        _("Webhook delivery sent again"),
        _("%(actor)s sent message %(message_id)s of the webhook %(target)s again."),
    )
    describe.register(
        "webhook.disabled",
        _("Webhook turned off"),
        _("%(actor)s turned off the webhook %(target)s: its deliveries kept failing since %(since)s."),
    )
    describe.register(
        "inbound.created",
        _("Inbound webhook created"),
        _("%(actor)s created the inbound webhook %(target)s for %(account)s."),
    )
    describe.register(
        "inbound.turned_on", _("Inbound webhook turned on"), _("%(actor)s turned on the inbound webhook %(target)s.")
    )
    describe.register(
        "inbound.turned_off",
        _("Inbound webhook turned off"),
        _("%(actor)s turned off the inbound webhook %(target)s."),
    )
    describe.register(
        "inbound.deleted", _("Inbound webhook deleted"), _("%(actor)s deleted the inbound webhook %(target)s.")
    )

    deliveries = dict(Follow.Delivery.choices)
    describe.register_detail(
        "kind", _("What is followed"), describe.CHOICE, choices=dict(Follow.Kind.choices), actions=("follow.",)
    )
    describe.register_detail(
        "kind",
        _("Email"),
        describe.CHOICE,
        choices=dict(Mail.Kind.choices),
        actions=("follow.mail_unsubscribed",),
    )
    describe.register_detail("target_id", _("Followed id"), actions=("follow.",))
    describe.register_detail("delivery", _("Delivery"), describe.CHOICE, choices=deliveries, actions=("follow.",))
    describe.register_detail("until", _("Until"), describe.DATETIME, actions=("follow.",))
    describe.register_detail("follows", _("Follows changed"), describe.NUMBER, actions=("follow.",))
    describe.register_detail(
        "involved", _("Also what involves them"), describe.BOOL, actions=("follow.mail_unsubscribed",)
    )
    describe.register_detail("involved", _("Now"), describe.CHOICE, choices=deliveries, actions=("mail.",))
    describe.register_detail("before", _("Before"), describe.CHOICE, choices=deliveries, actions=("mail.",))
    describe.register_detail("url", _("Address"), actions=("webhook.",))
    describe.register_detail("event_types", _("Events sent"), describe.ACTIONS, actions=("webhook.",))
    describe.register_detail(
        "kind", _("Webhook kind"), describe.CHOICE, choices=dict(WebhookEndpoint.Kind.choices), actions=("webhook.",)
    )
    describe.register_detail("active", _("On"), describe.BOOL, actions=("webhook.",))
    describe.register_detail("previous_until", _("Old secret signs until"), describe.DATETIME, actions=("webhook.",))
    describe.register_detail("delivery", _("Delivery"), actions=("webhook.",))
    describe.register_detail("message_id", _("Message id"), actions=("webhook.",))
    describe.register_detail("since", _("Failing since"), describe.DATETIME, actions=("webhook.",))
    describe.register_detail("account", _("Service account"), describe.USERNAME, actions=("inbound.",))
    describe.register_detail(
        "action", _("Writes"), describe.CHOICE, choices=dict(InboundHook.Action.choices), actions=("inbound.",)
    )
    describe.register_detail("mapping", _("Mapping"), actions=("inbound.",))
