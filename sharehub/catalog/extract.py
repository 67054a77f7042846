"""Plain text for search from an attachment, run in a child process with hard limits.

Parsing untrusted files is slow and can explode: a 13 KB XLSX may claim 40 million cells, a 4 KB DOCX may
inflate to 1 GB. So the server never parses a file itself. `sharehub.catalog.tasks` runs this module as
`python -m sharehub.catalog.extract PATH MIME` after the upload has committed, with an address-space cap
(RLIMIT_AS) and a CPU-time cap set on the child and a wall-clock timeout kept by the parent. Before parsing
an Office file its zip directory is read, and a file that would inflate past the limit is not opened.
The child prints one JSON object: {"status": ..., "reason": ..., "text": ...}.

This module does not import Django, so the child starts quickly and small.
"""

from __future__ import annotations

import io
import json
import sys
import zipfile
from dataclasses import asdict, dataclass

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Outcomes, stored on the blob. "partial" keeps the text read before a limit was reached.
DONE, PARTIAL, SKIPPED, FAILED, NO_TEXT = "done", "partial", "skipped", "failed", "none"

# Reasons, which the pages and the API translate into a sentence.
TOO_MANY_CHARS = "too_many_chars"
TOO_MANY_CELLS = "too_many_cells"
TOO_MANY_PAGES = "too_many_pages"
INFLATES_TOO_MUCH = "inflates_too_much"
DAMAGED = "damaged"
TIMED_OUT = "timed_out"
OUT_OF_MEMORY = "out_of_memory"
MISSING_FILE = "missing_file"
STOPPED_REPEATEDLY = "stopped_repeatedly"

_TEXT_TYPES = (XLSX, DOCX, "application/pdf")


def has_text(mime_type: str) -> bool:
    """Whether files of this type have text worth reading for search."""
    return mime_type in _TEXT_TYPES or mime_type.startswith("text/")


MAX_CHARS = 1_000_000


@dataclass(frozen=True)
class Limits:
    max_chars: int = MAX_CHARS
    max_cells: int = 2_000_000
    max_pages: int = 2_000
    max_uncompressed_bytes: int = 100 * 1024 * 1024

    @classmethod
    def from_json(cls, raw: str) -> Limits:
        return cls(**json.loads(raw)) if raw else cls()


@dataclass
class Result:
    status: str
    reason: str = ""
    text: str = ""


class _TextSink:
    """Collects text up to a number of characters; `full` says the limit was reached."""

    def __init__(self, max_chars: int):
        self.max_chars = max_chars
        self.parts: list[str] = []
        self.size = 0
        self.full = False

    def add(self, piece: str) -> None:
        if self.full or not piece:
            return
        room = self.max_chars - self.size
        if len(piece) >= room:
            piece = piece[:room]
            self.full = True
        self.parts.append(piece)
        self.size += len(piece)

    def text(self) -> str:
        """No NUL and no lone surrogate: neither fits a database text column."""
        joined = "".join(self.parts).replace("\x00", "")
        return joined.encode("utf-8", errors="replace").decode("utf-8")


def _check_zip(path: str, limits: Limits) -> Result | None:
    """Refuse an Office file whose members would inflate past the limit, from the zip directory alone."""
    try:
        with zipfile.ZipFile(path) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return Result(FAILED, DAMAGED)
    if total > limits.max_uncompressed_bytes:
        return Result(SKIPPED, INFLATES_TOO_MUCH)
    return None


def _xlsx(path: str, limits: Limits, sink: _TextSink) -> str:
    from openpyxl import load_workbook

    with open(path, "rb") as handle:  # a file object: openpyxl refuses a path without the .xlsx suffix
        workbook = load_workbook(io.BytesIO(handle.read()), read_only=True, data_only=True)
    cells = 0
    try:
        for sheet in workbook.worksheets:
            sink.add(f"{sheet.title}\n")
            for row in sheet.iter_rows(values_only=True):
                cells += len(row)
                if cells > limits.max_cells:
                    return TOO_MANY_CELLS
                values = [str(value) for value in row if value is not None]
                if values:
                    sink.add("\t".join(values) + "\n")
                if sink.full:
                    return TOO_MANY_CHARS
    finally:
        workbook.close()
    return ""


def _docx(path: str, limits: Limits, sink: _TextSink) -> str:
    import docx

    document = docx.Document(path)
    for paragraph in document.paragraphs:
        sink.add(paragraph.text + "\n")
        if sink.full:
            return TOO_MANY_CHARS
    cells = 0
    for table in document.tables:
        for row in table.rows:
            row_cells = row.cells
            cells += len(row_cells)
            if cells > limits.max_cells:
                return TOO_MANY_CELLS
            sink.add("\t".join(cell.text for cell in row_cells) + "\n")
            if sink.full:
                return TOO_MANY_CHARS
    return ""


def _pdf(path: str, limits: Limits, sink: _TextSink) -> str:
    from pypdf import PdfReader

    reader = PdfReader(path)
    for number, page in enumerate(reader.pages):
        if number >= limits.max_pages:
            return TOO_MANY_PAGES
        sink.add((page.extract_text() or "") + "\n")
        if sink.full:
            return TOO_MANY_CHARS
    return ""


def _plain(path: str, limits: Limits, sink: _TextSink) -> str:
    with open(path, "rb") as handle:
        raw = handle.read(limits.max_chars * 4 + 4)
    sink.add(raw.decode("utf-8", errors="replace"))
    return TOO_MANY_CHARS if sink.full else ""


def extract(path: str, mime_type: str, limits: Limits | None = None) -> Result:
    """The text of one file within the limits. Call it in a child process: it has no time or memory cap."""
    limits = limits or Limits()
    if mime_type == XLSX:
        reader = _xlsx
    elif mime_type == DOCX:
        reader = _docx
    elif mime_type == "application/pdf":
        reader = _pdf
    elif mime_type.startswith("text/"):
        reader = _plain
    else:
        return Result(NO_TEXT)
    if mime_type in (XLSX, DOCX):
        refused = _check_zip(path, limits)
        if refused is not None:
            return refused
    sink = _TextSink(limits.max_chars)
    try:
        stopped_by = reader(path, limits, sink)
    except MemoryError:
        return Result(FAILED, OUT_OF_MEMORY)
    except Exception:
        return Result(FAILED, DAMAGED)
    if stopped_by:
        return Result(PARTIAL, stopped_by, sink.text())
    return Result(DONE, "", sink.text())


def cap_this_process(memory_bytes: int, cpu_seconds: int) -> None:
    """Hard caps on this (child) process: address space and CPU time. Lowering a limit needs no privilege."""
    import resource

    if memory_bytes > 0:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if cpu_seconds > 0:
        resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 5))


def main(argv: list[str]) -> int:
    """python -m sharehub.catalog.extract PATH MIME MEMORY_BYTES CPU_SECONDS [LIMITS_JSON]"""
    if len(argv) not in (5, 6):
        print(main.__doc__, file=sys.stderr)
        return 2
    cap_this_process(int(argv[3]), int(argv[4]))
    limits = Limits.from_json(argv[5] if len(argv) == 6 else "")
    result = extract(argv[1], argv[2], limits)
    sys.stdout.write(json.dumps(asdict(result)))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
