from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DirectoryConfig(AppConfig):
    name = "sharehub.directory"
    label = "directory"
    verbose_name = _("Directory sign-in")

    def ready(self) -> None:
        from sharehub.directory import audit, tasks  # noqa: F401  (tasks registers the periodic sync)

        audit.register()
        from sharehub.directory import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
