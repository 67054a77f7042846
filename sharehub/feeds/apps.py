from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedsConfig(AppConfig):
    name = "sharehub.feeds"
    label = "feeds"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from sharehub.events import consumers
        from sharehub.feeds import audit, follows, notifications, tasks, webhooks  # noqa: F401  (tasks: the periodic jobs)
        from sharehub.feeds.services import names_recipients, notify_from_event
        from sharehub.search import tasks as search_tasks

        # followers first: an edit of a much-followed resource is the larger fan-out, and no one hears of an
        # event both ways (those it names are left to the "notifications" reader), so the order is free
        consumers.register("follows", follows.notify_followers, accepts=follows.wants)
        consumers.register("notifications", notify_from_event, accepts=names_recipients)
        consumers.register("webhooks", webhooks.deliveries_from_event, accepts=webhooks.wants)
        consumers.register_prepared(
            follows.SEARCH_READER,
            follows.find_search_matches,
            follows.write_search_matches,
            prefixes=follows.MAY_NEWLY_MATCH,
            after=search_tasks.READER_NAME,  # it asks the search index, so it reads only what that has taken in
        )
        notifications.register()
        audit.register()
        from sharehub.feeds import handover  # what a leaver holds here (sharehub.org.handover)

        handover.register()
        from sharehub.feeds import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
