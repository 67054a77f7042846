from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "sharehub.events"
    label = "events"
    verbose_name = _("Event log")

    def ready(self) -> None:
        from sharehub.events import audit, consumers  # noqa: F401  (consumers: subscribes the log readers to commits)

        audit.register()
