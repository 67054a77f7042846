"""`sharehub people import FILE [--apply] [--format csv|xlsx] [--as USERNAME]`: what the page "Import people"
does, from a file path. Without --apply it prints each row's action and the errors and writes nothing (exit 1
when a row has errors); with --apply it keeps the import (listed on the page) and writes every valid row in one
transaction, skipping the rows with errors, as the first organization admin or the person named by --as."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError
from django.utils import translation

from sharehub.console import SharehubCommand, apply_migrations, table
from sharehub.org import people_import
from sharehub.org.models import PeopleImport, User
from sharehub.policy.engine import OrgAction, can

SHOWN_ERRORS = 200  # errors printed; the rest are counted


def _actor(username: str | None) -> User:
    if username:
        user = User.objects.filter(username__iexact=username.strip()).first()
        if user is None:
            raise CommandError(f"There is no user named {username!r}.")
        if not can(user, OrgAction.MANAGE_ORG):
            raise CommandError(f"{user.username} may not manage the organization; name an organization admin.")
        return user
    user = User.objects.filter(is_org_admin=True, is_active=True, kind=User.Kind.PERSON).order_by("pk").first()
    if user is None:
        raise CommandError("There is no organization admin to act as; create one with `sharehub createadmin`.")
    return user


class Command(SharehubCommand):
    help = "Import people from CSV or XLSX: `people import FILE` checks it, `--apply` writes the valid rows."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import}")
        imports = actions.add_parser("import", help="check a CSV or XLSX file of people, and with --apply import it")
        imports.add_argument("file", help="the file; its first row names the columns (see the page's template)")
        imports.add_argument(
            "--apply", action="store_true", help="write the valid rows (rows with errors are skipped and listed)"
        )
        imports.add_argument("--format", choices=people_import.FORMATS, help="csv or xlsx (default: from the file)")
        imports.add_argument(
            "--as", dest="as_user", metavar="USERNAME", help="the organization admin the import is recorded as"
        )

    def handle(self, *args, **options):
        with translation.override("en"):  # the command speaks English, as the other commands do
            self._handle(options)

    def _handle(self, options) -> None:
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        path = Path(options["file"])
        try:
            data = path.read_bytes()
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
        actor = _actor(options["as_user"]) if options["apply"] or options["as_user"] else None
        table_ = people_import.read_table(data, path.name, options["format"])
        checked = people_import.check_table(actor, table_)
        self._print(checked)
        counts = checked.counts()
        valid = counts["create"] + counts["update"] + counts["unchanged"]
        if not options["apply"]:
            if counts["error"]:
                raise CommandError(
                    f"{counts['error']} row(s) have errors; nothing was written. Correct them, or add --apply to "
                    "import the other rows and skip these."
                )
            self.stdout.write("Nothing was written; add --apply to import.")
            return
        if not valid:
            raise CommandError("No row can be imported; nothing was written.")
        found = people_import.save_preview(actor, path.name, checked)
        found = people_import.apply_import(actor, found)
        if found.status != PeopleImport.Status.APPLIED:
            raise CommandError(f"Nothing was imported: {found.summary.get('reason', '')}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported as {actor.username} (import {found.pk}): {counts['create']} added, {counts['update']} "
                f"changed, {counts['unchanged']} unchanged, {counts['error']} row(s) with errors skipped."
            )
        )

    def _print(self, checked: people_import.Checked) -> None:
        columns = ("username", "display_name", "email", "department", "role", "org_roles", "active")
        rows = [
            [row["line"], row["action"], *(row["values"].get(name, "") for name in columns)] for row in checked.rows
        ]
        if self.verbosity:
            self.stdout.write(table(["line", "action", *columns], rows))
        errors = [
            f"  line {row['line']}, {name}: {people_import.error_text(*problem)}"
            for row in checked.rows
            for name, problem in row["errors"].items()
        ]
        if errors:
            self.stderr.write("Errors:")
            for line in errors[:SHOWN_ERRORS]:
                self.stderr.write(line)
            if len(errors) > SHOWN_ERRORS:
                self.stderr.write(f"  … and {len(errors) - SHOWN_ERRORS} more")
        counts = checked.counts()
        self.stdout.write(
            f"{checked.summary['rows']} row(s): {counts['create']} new, {counts['update']} with changes, "
            f"{counts['unchanged']} unchanged, {counts['error']} with errors."
        )
        if checked.summary.get("ignored"):
            self.stdout.write(f"Columns not recognised, ignored: {', '.join(checked.summary['ignored'])}")
