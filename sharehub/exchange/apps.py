from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "sharehub.exchange"
    label = "exchange"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from sharehub.exchange import audit, notifications, tasks  # noqa: F401  (tasks registers key rotation and the sweep)

        notifications.register()
        audit.register()
        from sharehub.exchange import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
