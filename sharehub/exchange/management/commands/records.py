"""`sharehub records import DATASET FILE`: load a CSV or XLSX file into a dataset's records."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from django.core.management.base import CommandError
from django.utils.translation import gettext as _

from sharehub.catalog.models import Resource
from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.exchange import files, services
from sharehub.exchange.rows import check_rows
from sharehub.org.models import Membership, User

MAX_FILE_BYTES = 2 * 1024**3


class Command(SharehubCommand):
    help = "Import records into a dataset from a CSV or XLSX file, by record key (insert or update)."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{import}")
        load = actions.add_parser("import", help="insert or update records from a CSV or XLSX file")
        load.add_argument("dataset", help="the dataset's code or id")
        load.add_argument("path", help="a CSV (UTF-8 or GB18030) or XLSX file with a header row")
        load.add_argument("--as", dest="username", help="a member of the owner department (default: its steward)")
        load.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="COLUMN=FIELD",
            help="map a column to a field (repeat); columns named like a field or its label map themselves",
        )
        load.add_argument(
            "--mode",
            choices=services.Mode.CHOICES,
            default=services.Mode.ALL_OR_NOTHING,
            help="all: any bad row writes nothing (default); valid: write the good rows, report the rest",
        )
        load.add_argument("--errors", metavar="PATH", help="write the error report (row, field, value, reason) here")
        load.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
        load.add_argument(
            "--replace",
            action="store_true",
            help="replace all: also delete the records whose key is not in the file (their number is shown first)",
        )
        load.add_argument(
            "--expect-deletes",
            type=int,
            metavar="N",
            help="with --replace when not asked interactively: the number of records you expect to be deleted",
        )

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        self._import(options)

    def _dataset(self, ident: str) -> Resource:
        lookup = {"pk": int(ident)} if ident.isdigit() else {"code": ident}
        resource = Resource.objects.filter(kind=Resource.Kind.DATASET, **lookup).first()
        if resource is None:
            raise CommandError(_("There is no dataset %(ident)r.") % {"ident": ident})
        return resource

    def _actor(self, resource: Resource, username: str | None) -> User:
        members = Membership.objects.filter(department_id=resource.owner_department_id).select_related("user")
        if username:
            membership = members.filter(user__username__iexact=username.strip()).first()
            if membership is None:
                raise CommandError(
                    _("%(user)r is not a member of %(dept)s.")
                    % {"user": username, "dept": resource.owner_department.name}
                )
        else:
            membership = (
                members.filter(user_id=resource.steward_id).first()
                or members.filter(role__in=[Membership.Role.STEWARD, Membership.Role.HEAD]).order_by("user_id").first()
            )
            if membership is None:
                raise CommandError(
                    _("%(dept)s has no steward; pass --as USERNAME.") % {"dept": resource.owner_department.name}
                )
        if not membership.user.is_active:
            raise CommandError(_("%(user)r is deactivated; pass another --as.") % {"user": membership.user.username})
        return membership.user

    def _import(self, options) -> None:
        resource = self._dataset(options["dataset"])
        actor = self._actor(resource, options["username"])
        path = Path(options["path"])
        if not path.is_file():
            raise CommandError(_("%(path)s is not a file.") % {"path": path})
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandError(_("%(path)s is larger than 2 GB; split it.") % {"path": path})
        dataset = services.writable_dataset(actor, resource)
        codec = services.codec_for(dataset)
        table = files.open_table(path, path.name)
        mapping = files.guess_mapping(table.columns, codec.fields)
        for item in options["map"]:
            column, sep, field = item.partition("=")
            if not sep:
                raise CommandError(_("--map %(item)r: write COLUMN=FIELD.") % {"item": item})
            mapping[column.strip()] = field.strip()
        mapping = files.check_mapping(mapping, table.columns, codec.fields)
        unmapped = files.left_out(mapping)
        if unmapped and self.verbosity:
            self.stderr.write(
                _("Columns not imported (no field of that name; use --map): %(columns)s")
                % {"columns": ", ".join(unmapped)}
            )
        with progress(self, 0, _("Checking"), unit=" " + _("rows")) as bar:
            checked = check_rows(
                codec, files.mapped_rows(table, mapping), progress=bar.update, prepare=not options["dry_run"]
            )
        if options["errors"]:
            self._write_report(Path(options["errors"]), checked.errors)
        summary = _("%(rows)s rows, %(valid)s valid, %(bad)s with problems") % {
            "rows": checked.rows,
            "valid": len(checked.valid),
            "bad": checked.rejected_rows,
        }
        if checked.errors and (options["mode"] == services.Mode.ALL_OR_NOTHING or options["dry_run"]):
            for error in checked.errors[:20]:
                self.stderr.write(
                    _("row %(row)s, %(field)s: %(reason)s %(value)r")
                    % {"row": error.row, "field": error.field or "-", "reason": error.reason, "value": error.value}
                )
            if len(checked.errors) > 20:
                self.stderr.write(
                    _("… and %(n)s more problems (--errors PATH writes them all)") % {"n": len(checked.errors) - 20}
                )
        if options["dry_run"]:
            self.stdout.write(_("Checked %(summary)s; nothing written (--dry-run).") % {"summary": summary})
            if checked.errors:
                raise CommandError(_("Some rows have problems; see above."))
            return
        if checked.errors and options["mode"] == services.Mode.ALL_OR_NOTHING:
            raise CommandError(
                _("%(summary)s: nothing written. Fix them, or pass --mode valid to keep the valid rows.")
                % {"summary": summary}
            )
        replace_expected = self._confirm_replace(dataset, checked, options) if options["replace"] else None
        with progress(self, len(checked.valid), _("Writing"), unit=" " + _("rows")) as bar:
            result = services.write_checked(
                actor,
                resource,
                dataset,
                codec,
                checked,
                via="cli",
                progress=bar.update,
                replace_expected=replace_expected,
            )
        self.stdout.write(
            _("%(code)s: %(i)s inserted, %(u)s updated, %(s)s unchanged, %(d)s deleted, %(r)s rows rejected.")
            % {
                "code": resource.code,
                "i": result.inserted,
                "u": result.updated,
                "s": result.unchanged,
                "d": result.deleted,
                "r": result.rejected,
            }
        )

    def _confirm_replace(self, dataset, checked, options) -> int:
        count = len(services.stale_keys(dataset, checked))
        self.stdout.write(_("Replacing deletes %(n)s records whose key is not in the file.") % {"n": count})
        expected = options["expect_deletes"]
        if expected is None:
            if not sys.stdin.isatty():
                raise CommandError(
                    _("Pass --expect-deletes %(n)s to confirm the deletes (or leave out --replace).") % {"n": count}
                )
            answer = input(_("Type %(n)s to go on: ") % {"n": count}).strip()
            if answer != str(count):
                raise CommandError(_("Not confirmed; nothing written."))
            expected = count
        if expected != count:
            raise CommandError(
                _("%(n)s records would be deleted, not %(expected)s; nothing written.")
                % {"n": count, "expected": expected}
            )
        return expected

    def _write_report(self, path: Path, errors) -> None:
        try:
            with path.open("w", newline="", encoding="utf-8-sig") as handle:
                writer = csv.writer(handle)
                writer.writerow([_("row"), _("field"), _("value"), _("reason")])
                writer.writerows([e.row, e.field, e.value, e.reason] for e in errors)
        except OSError as error:
            raise CommandError(
                _("Cannot write %(path)s: %(error)s.") % {"path": path, "error": error.strerror or error}
            ) from None
