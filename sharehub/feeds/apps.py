from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "sharehub.feeds"
    label = "feeds"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from sharehub.events import consumers
        from sharehub.feeds import follows, notifications, tasks, webhooks  # noqa: F401  (tasks: the periodic jobs)
        from sharehub.feeds.services import names_recipients, notify_from_event

        consumers.register("notifications", notify_from_event, accepts=names_recipients)
        consumers.register("follows", follows.notify_followers, accepts=follows.wants)
        consumers.register("webhooks", webhooks.deliveries_from_event, accepts=webhooks.wants)
        notifications.register()
