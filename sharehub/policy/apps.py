from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext_lazy as _


class PolicyConfig(AppConfig):
    name = "sharehub.policy"
    label = "policy"
    verbose_name = _("Sharing policy")

    def ready(self) -> None:
        from sharehub.access.models import Grant
        from sharehub.org.models import Department, Membership
        from sharehub.policy import engine

        for model in (Grant, Membership, Department):
            uid = f"policy-context-{model._meta.label}"
            post_save.connect(engine.contexts_outdated, sender=model, dispatch_uid=uid)
            post_delete.connect(engine.contexts_outdated, sender=model, dispatch_uid=uid)
