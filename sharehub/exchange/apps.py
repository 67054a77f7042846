from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ExchangeConfig(AppConfig):
    name = "sharehub.exchange"
    label = "exchange"
    verbose_name = _("Data exchange")

    def ready(self) -> None:
        from sharehub.exchange import notifications, tasks  # noqa: F401  (tasks registers the key rotation job)

        notifications.register()
