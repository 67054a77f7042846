from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccessConfig(AppConfig):
    name = "sharehub.access"
    label = "access"
    verbose_name = _("Access requests and grants")

    def ready(self) -> None:
        from sharehub.access import audit, notifications, tasks  # noqa: F401  (tasks registers the sweep)

        notifications.register()
        audit.register()
        from sharehub.access import handover  # what a leaver holds here (sharehub.org.handover)

        handover.register()
        from sharehub.access import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
