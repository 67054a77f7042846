from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KnowledgeConfig(AppConfig):
    name = "sharehub.knowledge"
    label = "knowledge"
    verbose_name = _("Knowledge sharing")

    def ready(self) -> None:
        # Each part registers its event descriptions, log readers, background jobs and resource-page panels.
        from sharehub.knowledge import articles, help_pages, points, qa, sessions, social

        for part in (articles, qa, sessions, social, points, help_pages):
            part.register()
        from sharehub.knowledge import holdings  # what a department holds here (sharehub.org.tree)

        holdings.register()
