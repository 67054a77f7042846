"""`sharehub createadmin`: make an organization admin from the command line, a superuser too: the first admin
opens Django's admin (/admin/), which the policy keeps for superusers."""

from __future__ import annotations

import getpass
import secrets
import sys

from django.core.management.base import CommandError
from django.db import transaction

from sharehub.console import SharehubCommand, apply_migrations
from sharehub.org import services as org
from sharehub.org.models import User


class Command(SharehubCommand):
    help = (
        "Create an organization admin who is also a superuser (Django's admin). Without --password, asks for one "
        "on a terminal, or generates one and prints it when input is not a terminal."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="sign-in name (default admin)")
        parser.add_argument("--password", help="the password; omit it to be asked (or to get a generated one)")
        parser.add_argument("--display-name", default="", help="the name shown in the interface")
        parser.add_argument("--email", default="", help="email address (optional)")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        username = options["username"].strip()
        if User.objects.filter(username__iexact=username).exists():
            raise CommandError(f"A user named {username!r} exists already; choose another --username.")
        password, generated = options["password"], False
        if not password:
            if sys.stdin.isatty():
                password = self._ask_password()
            else:
                password, generated = secrets.token_urlsafe(15), True
        with transaction.atomic():
            user = org.create_person(
                None,
                username=username,
                password=password,
                display_name=options["display_name"],
                email=options["email"],
                is_org_admin=True,
            )
            org.set_superuser(None, user, True)
        self.stdout.write(self.style.SUCCESS(f"Created organization admin {user.username!r} (a superuser)."))
        if generated:
            self.stdout.write(f"Password: {password}")
            self.stdout.write("It is shown only this once; change it after signing in.")

    def _ask_password(self) -> str:
        try:
            first = getpass.getpass("Password: ")
            if not first:
                raise CommandError("The password cannot be empty; nothing was created.")
            if getpass.getpass("Password (again): ") != first:
                raise CommandError("The two passwords do not match; nothing was created.")
        except (EOFError, KeyboardInterrupt):
            raise CommandError("Cancelled; nothing was created.") from None
        return first
