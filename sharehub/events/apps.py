from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EventsConfig(AppConfig):
    name = "sharehub.events"
    label = "events"
    verbose_name = _("Event log")

    def ready(self) -> None:
        from sharehub.events import consumers  # noqa: F401  (subscribes the log readers to commits)
