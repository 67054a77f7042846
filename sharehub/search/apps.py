from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SearchConfig(AppConfig):
    name = "sharehub.search"
    label = "search"
    verbose_name = _("Search")

    def ready(self) -> None:
        from sharehub.search import audit, tasks

        tasks.register()
        audit.register()
