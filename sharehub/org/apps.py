from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgConfig(AppConfig):
    name = "sharehub.org"
    label = "org"
    verbose_name = _("Organization")

    def ready(self) -> None:
        from sharehub.org import audit, signals, tasks  # noqa: F401  (tasks registers the token expiry job)

        audit.register()
        from sharehub.org import tree  # the department tree's own holdings: sub-departments, members, accounts

        tree.register_org_holdings()
