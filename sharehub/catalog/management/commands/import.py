"""`sharehub import`: bring a folder of files or a CSV of resources into one department's catalog."""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from django.core.management.base import CommandError

from sharehub.catalog import tasks as catalog_tasks
from sharehub.catalog.imports import Outcome, import_item, no_longer_in
from sharehub.catalog.models import Blob, Resource
from sharehub.console import SharehubCommand, apply_migrations, progress
from sharehub.errors import ServiceError
from sharehub.events import consumers
from sharehub.org.models import Department, Membership, User

COLUMNS = (
    "key",
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
# What an empty cell means, on the first import and on every later one.
EMPTY = {
    "summary": "",
    "body": "",
    "tags": [],
    "conditions": "",
    "restriction_basis": "",
    "update_frequency": Resource.Frequency.IRREGULAR,
    "link_url": "",
}

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
    update_frequency   {", ".join(Resource.Frequency.values)} (default irregular)
    link_url           the address of the external system, needed for kind link
  Progress updates need a project, which a CSV cannot name yet; add them in the web pages.

Resources are created as drafts by the steward (--steward, or the department's first steward or
head); --publish publishes them at once.

Running again: importing the same PATH into the same department again updates what the earlier run
created instead of creating it twice. A file is recognised by its full path (a moved folder is a new
source); a CSV row by its key column, or without one by its title (so titles must then be unique in
the file, and a changed title makes a new resource), together with the CSV's full path. An item
whose file and values are as they were at the last import is left alone, so edits made in the pages
since stay; a changed item is updated with a new version, its file attached again only when the
content changed; an empty cell clears the value. The summary counts created, updated, unchanged and
failed items, and lists what an earlier run of the same PATH brought in that is no longer there (a
deleted file, a removed row); those resources are left as they are: archive them in the catalog if
they are gone for good."""


@dataclass
class Item:
    label: str  # "row 3" or the file name, for the summary
    source: str  # what names the item from one run to the next (see HELP)
    fields: dict  # the non-empty values
    columns: tuple[str, ...] = ()  # the optional columns it sets, empty or not
    kind: str = Resource.Kind.DOCUMENT
    file: Path | None = None
    problem: str = ""  # why it cannot be imported, found before importing


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
            items = self._folder_items(path.resolve())
            origin = f"file {path.resolve()}{os.sep}"
        elif path.is_file():
            items = self._csv_items(path.resolve())
            origin = f"csv {path.resolve()} "
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

        done: list[tuple[Resource, Outcome]] = []
        failures: list[tuple[str, str]] = []
        with progress(self, len(items), f"Importing into {department.code}", unit="item") as bar:
            for item in items:
                if item.problem:
                    failures.append((item.label, item.problem))
                    bar.update(1)
                    continue
                try:
                    done.append(
                        import_item(
                            actor,
                            department,
                            source=item.source,
                            kind=item.kind,
                            fields=_fields(item, defaults),
                            file=item.file,
                            publish=options["publish"],
                        )
                    )
                except ServiceError as error:
                    failures.append((item.label, _reason(error)))
                except OSError as error:
                    failures.append((item.label, f"cannot read the file ({error.strerror or error})"))
                bar.update(1)
        self._read_attachments()

        counts = Counter(outcome for _resource, outcome in done)
        state = "published" if options["publish"] else "new ones as drafts"
        self.stdout.write(
            f"{counts[Outcome.CREATED]} created, {counts[Outcome.UPDATED]} updated, "
            f"{counts[Outcome.UNCHANGED]} unchanged, {len(failures)} failed "
            f"({state}, into {department.name} as {actor.username})."
        )
        for resource, outcome in done if self.verbosity > 1 else []:
            self.stdout.write(f"  {outcome:<9}  {resource.code}  {resource.title}")
        for label, reason in failures:
            self.stdout.write(f"  failed: {label}: {reason}")
        self._report_gone(department, origin, path, items)
        if failures:
            raise CommandError(f"{len(failures)} of {len(items)} items were not imported; the reasons are above.")

    def _report_gone(self, department: Department, origin: str, path: Path, items: list[Item]) -> None:
        gone = no_longer_in(department, origin, (item.source for item in items))
        if path.is_dir():  # only the folder's own files: a subfolder is imported on its own
            gone = [key for key in gone if os.sep not in key.source.removeprefix(origin)]
        else:  # only this file's rows, not those of "<path> 2.csv"
            gone = [key for key in gone if key.source.removeprefix(origin).startswith(("key ", "title "))]
        if not gone:
            return
        what = "files are" if path.is_dir() else "rows are"
        self.stdout.write(
            f"{len(gone)} imported earlier from {path} no longer there ({what} gone); their resources are left "
            "as they are, archive them in the catalog if they are gone for good:"
        )
        for key in gone:
            where = key.source.removeprefix(origin)
            self.stdout.write(f"  gone:     {key.resource.code}  {key.resource.title}  ({where})")

    def _read_attachments(self) -> None:
        """Read the new files' text for search now, as the server's background work would, so that what was
        imported is found at once even when no server runs; then bring the log readers (search) up to date."""
        pending = Blob.objects.filter(text_status=Blob.TextStatus.PENDING).count()
        if not pending:
            return
        with progress(self, pending, "Reading attachments for search", unit="file") as bar:
            while done := catalog_tasks.extract_pending(max_seconds=5):
                bar.update(done)
        consumers.run_pending()

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
            items.append(Item(label=path.name, source=f"file {path}", fields=fields, file=path))
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
                items.append(self._row_item(path, number, values, keyed="key" in header))
        except csv.Error as error:
            raise CommandError(f"{path} is not a readable CSV file near line {reader.line_num} ({error}).") from None
        if not items:
            raise CommandError(f"{path} has a header but no rows to import.")
        first: dict[str, Item] = {}
        for item in items:
            if item.problem:
                continue
            if item.source in first:
                what = "key" if "key" in header else "title"
                item.problem = f"{what}: the same {what} as {first[item.source].label}" + (
                    "" if what == "key" else "; add a key column to tell the rows apart"
                )
            else:
                first[item.source] = item
        return items

    def _row_item(self, path: Path, number: int, values: dict, *, keyed: bool) -> Item:
        fields: dict = {"title": values.get("title", "")}
        for name in ("summary", "body", "conditions", "restriction_basis", "sharing_type", "update_frequency"):
            if values.get(name, "").strip():
                fields[name] = values[name].strip() if name != "body" else values[name]
        if values.get("link_url", "").strip():
            fields["link_url"] = values["link_url"].strip()
        if values.get("tags", "").strip():
            fields["tags"] = [t.strip() for t in TAG_SEPARATORS.split(values["tags"]) if t.strip()]
        kind = values.get("kind", "").strip().lower() or Resource.Kind.DOCUMENT
        label = f"row {number}"
        if keyed:
            key = values.get("key", "").strip()
            source, problem = f"csv {path} key {key}", "" if key else "key: empty; every row needs its key"
        else:
            source, problem = f"csv {path} title {fields['title'].strip()}", ""
        columns = tuple(name for name in EMPTY if name in values)
        return Item(label=label, source=source, fields=fields, columns=columns, kind=kind, problem=problem)


def _fields(item: Item, defaults: dict) -> dict:
    """The values an item sets: its own, else the command's defaults, else what an empty cell means."""
    fields = {name: EMPTY[name] for name in item.columns} | item.fields
    sharing = fields.setdefault("sharing_type", defaults["sharing_type"])
    if sharing == Resource.SharingType.CONDITIONAL and not fields.get("conditions") and "conditions" in defaults:
        fields["conditions"] = defaults["conditions"]
    if (
        sharing == Resource.SharingType.RESTRICTED
        and not fields.get("restriction_basis")
        and "restriction_basis" in defaults
    ):
        fields["restriction_basis"] = defaults["restriction_basis"]
    return fields
