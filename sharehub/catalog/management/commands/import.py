"""`sharehub import`: bring a folder of files or a CSV of resources into one department's catalog."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError
from django.db import transaction

from sharehub.catalog import services as catalog
from sharehub.catalog.models import Resource
from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.errors import ServiceError
from sharehub.org.models import Department, Membership, User

COLUMNS = (
    "title",
    "kind",
    "summary",
    "body",
    "tags",
    "sharing_type",
    "conditions",
    "restriction_basis",
    "update_frequency",
    "link_url",
)
TEXT_SUFFIXES = {".md", ".markdown", ".txt"}
TAG_SEPARATORS = re.compile(r"[,，、]")
CHUNK = 1024 * 1024

HELP = f"""Import resources into a department's catalog, each item in its own transaction: an item that
fails leaves nothing behind and does not stop the others. The summary names every failure and the
command exits non-zero if any item failed.

PATH is either
  a folder: each file (hidden files skipped) becomes a document titled by its file name, with the
  file attached; .md, .markdown and .txt files also become the body;
  or a CSV file (UTF-8, with or without BOM) with a header row. Columns ("title" is required, the
  rest optional, in any order):
    title              the resource title (at most 200 characters)
    kind               {", ".join(Resource.Kind.values)} (default document)
    summary            one paragraph
    body               Markdown
    tags               separated by commas or 、
    sharing_type       {", ".join(Resource.SharingType.values)} (default: --sharing)
    conditions         sharing conditions, needed when conditional (default: --conditions)
    restriction_basis  legal basis, needed when restricted (default: --restriction-basis)
    update_frequency   {", ".join(Resource.Frequency.values)}
    link_url           the address of the external system, needed for kind link
  Progress updates need a project, which a CSV cannot name yet; add them in the web pages.

Resources are created as drafts by the steward (--steward, or the department's first steward or
head); --publish publishes them at once."""


@dataclass
class Item:
    label: str  # "row 3" or the file name, for the summary
    fields: dict
    kind: str = Resource.Kind.DOCUMENT
    file: Path | None = None


def _chunks(path: Path):
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _reason(error: ServiceError) -> str:
    if error.fields:
        return "; ".join(f"{field}: {reason}" for field, reason in error.fields.items())
    return str(error.message)


class Command(SharehubCommand):
    help = HELP

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        return parser

    def add_arguments(self, parser):
        parser.add_argument("path", help="a folder of files, or a CSV file of resources")
        parser.add_argument("--department", required=True, metavar="CODE", help="code of the owning department")
        parser.add_argument("--steward", metavar="USERNAME", help="steward or head of the department to import as")
        parser.add_argument(
            "--sharing", choices=Resource.SharingType.values, default="open", help="sharing type when not given"
        )
        parser.add_argument("--conditions", default="", help="sharing conditions when not given (conditional)")
        parser.add_argument("--restriction-basis", default="", help="basis for not sharing when not given")
        parser.add_argument("--publish", action="store_true", help="publish at once instead of leaving drafts")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        path = Path(options["path"]).expanduser()
        department = Department.objects.filter(code__iexact=options["department"].strip()).first()
        if department is None:
            known = ", ".join(Department.objects.order_by("code").values_list("code", flat=True)) or "none yet"
            raise CommandError(f"There is no department with code {options['department']!r} (known codes: {known}).")
        actor = self._steward(department, options["steward"])
        defaults = {"sharing_type": options["sharing"]}
        if options["conditions"]:
            defaults["conditions"] = options["conditions"]
        if options["restriction_basis"]:
            defaults["restriction_basis"] = options["restriction_basis"]

        if path.is_dir():
            items = self._folder_items(path)
        elif path.is_file():
            items = self._csv_items(path)
        else:
            raise CommandError(f"{path} does not exist.")
        needs = {
            "conditional": ("conditions", "--conditions"),
            "restricted": ("restriction_basis", "--restriction-basis"),
        }
        if options["sharing"] in needs:
            name, flag = needs[options["sharing"]]
            if name not in defaults and any(
                name not in item.fields and "sharing_type" not in item.fields for item in items
            ):
                raise CommandError(f"--sharing {options['sharing']} needs {flag} (or a {name} column in the CSV).")

        imported: list[Resource] = []
        failures: list[tuple[str, str]] = []
        with progress(self, len(items), f"Importing into {department.code}", unit="item") as bar:
            for item in items:
                try:
                    imported.append(self._import_one(actor, department, item, defaults, options["publish"]))
                except ServiceError as error:
                    failures.append((item.label, _reason(error)))
                except OSError as error:
                    failures.append((item.label, f"cannot read the file ({error.strerror or error})"))
                bar.update(1)

        state = "published" if options["publish"] else "as drafts"
        self.stdout.write(
            f"{len(imported)} imported ({state}, into {department.name} as {actor.username}), {len(failures)} failed."
        )
        for resource in imported if self.verbosity > 1 else []:
            self.stdout.write(f"  {resource.code}  {resource.title}")
        for label, reason in failures:
            self.stdout.write(f"  failed: {label}: {reason}")
        if failures:
            raise CommandError(f"{len(failures)} of {len(items)} items were not imported; the reasons are above.")

    def _steward(self, department: Department, username: str | None) -> User:
        managers = Membership.objects.filter(
            department=department, role__in=[Membership.Role.STEWARD, Membership.Role.HEAD]
        ).select_related("user")
        if username:
            membership = managers.filter(user__username__iexact=username.strip()).first()
            if membership is None:
                raise CommandError(f"{username!r} is not a steward or head of {department.name}.")
        else:
            active = managers.filter(user__is_active=True).order_by("user__username")
            membership = (
                active.filter(role=Membership.Role.STEWARD).first() or active.filter(role=Membership.Role.HEAD).first()
            )
            if membership is None:
                raise CommandError(
                    f"{department.name} has no steward or head to import as; add one, or pass --steward."
                )
        if not membership.user.is_active:
            raise CommandError(f"{membership.user.username!r} is deactivated; pass another --steward.")
        return membership.user

    def _folder_items(self, folder: Path) -> list[Item]:
        files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
        if not files:
            raise CommandError(f"The folder {folder} has no files to import.")
        items = []
        for path in files:
            fields = {"title": path.stem.strip() or path.name}
            if path.suffix.lower() in TEXT_SUFFIXES:
                with contextlib.suppress(UnicodeDecodeError, OSError):  # not UTF-8: attached, without a body
                    fields["body"] = path.read_text(encoding="utf-8-sig")
            items.append(Item(label=path.name, fields=fields, file=path))
        return items

    def _csv_items(self, path: Path) -> list[Item]:
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CommandError(f"{path} is not UTF-8 text; save it as “CSV UTF-8” and try again.") from None
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror or error}.") from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [name.strip().lower() for name in next(reader)]
        except StopIteration:
            raise CommandError(f"{path} is empty; it needs a header row with at least a title column.") from None
        except csv.Error as error:
            raise CommandError(f"{path} is not a readable CSV file ({error}).") from None
        unknown = [name for name in header if name and name not in COLUMNS]
        if unknown:
            raise CommandError(
                f"{path} has unknown column(s) {', '.join(unknown)}; the columns are {', '.join(COLUMNS)}."
            )
        if "title" not in header:
            raise CommandError(f"{path} has no title column; the columns are {', '.join(COLUMNS)}.")
        items = []
        try:
            for number, row in enumerate(reader, start=2):  # the header is row 1, as in a spreadsheet
                if not any(cell.strip() for cell in row):
                    continue
                values = {name: (row[i] if i < len(row) else "") for i, name in enumerate(header) if name}
                items.append(self._row_item(number, values))
        except csv.Error as error:
            raise CommandError(f"{path} is not a readable CSV file near line {reader.line_num} ({error}).") from None
        if not items:
            raise CommandError(f"{path} has a header but no rows to import.")
        return items

    def _row_item(self, number: int, values: dict) -> Item:
        fields: dict = {"title": values.get("title", "")}
        for name in ("summary", "body", "conditions", "restriction_basis", "sharing_type", "update_frequency"):
            if values.get(name, "").strip():
                fields[name] = values[name].strip() if name != "body" else values[name]
        if values.get("link_url", "").strip():
            fields["link_url"] = values["link_url"].strip()
        if values.get("tags", "").strip():
            fields["tags"] = [t.strip() for t in TAG_SEPARATORS.split(values["tags"]) if t.strip()]
        kind = values.get("kind", "").strip().lower() or Resource.Kind.DOCUMENT
        return Item(label=f"row {number}", fields=fields, kind=kind)

    def _import_one(self, actor: User, department: Department, item: Item, defaults: dict, publish: bool) -> Resource:
        sharing = item.fields.get("sharing_type", defaults["sharing_type"])
        base = {"sharing_type": defaults["sharing_type"]}
        if sharing == Resource.SharingType.CONDITIONAL and "conditions" in defaults:
            base["conditions"] = defaults["conditions"]
        if sharing == Resource.SharingType.RESTRICTED and "restriction_basis" in defaults:
            base["restriction_basis"] = defaults["restriction_basis"]
        fields = {**base, **item.fields}
        with transaction.atomic():
            resource = catalog.create_resource(
                actor, owner_department=department, kind=item.kind, publish=publish, **fields
            )
            if item.file is not None:
                catalog.add_attachment(actor, resource, item.file.name, _chunks(item.file))
        return resource
