from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CatalogConfig(AppConfig):
    name = "sharehub.catalog"
    label = "catalog"
    verbose_name = _("Catalog")

    def ready(self) -> None:
        from sharehub.catalog import audit, notifications, tasks  # noqa: F401  (tasks registers the attachment-text job)

        notifications.register()
        audit.register()
        from sharehub.catalog import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
