"""Base for Sharehub's commands: errors print one sentence and exit non-zero, no traceback."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from sharehub.errors import ServiceError


class SharehubCommand(BaseCommand):
    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except ServiceError as error:
            details = "; ".join(f"{field}: {reason}" for field, reason in error.fields.items())
            raise CommandError(f"{error.message}{' (' + details + ')' if details else ''}") from None
