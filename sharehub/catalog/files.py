"""Content-addressed file storage under the data directory and type sniffing (text is read in `extract`)."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import unicodedata
from pathlib import Path
from urllib.parse import quote

import filetype
from django.conf import settings
from django.core.files import uploadhandler
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.http import FileResponse
from django.utils.translation import gettext as _

from sharehub.catalog.extract import DOCX, XLSX
from sharehub.errors import Invalid, NotFound, TooLarge

logger = logging.getLogger(__name__)

MAX_FILENAME = 200
MAX_EXTENSION = 16
_TEXT_EXTENSIONS = {".txt": "text/plain", ".md": "text/markdown", ".markdown": "text/markdown", ".csv": "text/csv"}


class TemporaryFileUploadHandler(uploadhandler.TemporaryFileUploadHandler):
    """Django's, except that the temporary file does not carry the upload's extension in its own name:
    a long one ("a." + 900 characters) is longer than a file name may be, and the upload failed."""

    def new_file(self, *args, **kwargs):
        uploadhandler.FileUploadHandler.new_file(self, *args, **kwargs)
        self.file = TemporaryUploadedFile("upload", self.content_type, 0, self.charset, self.content_type_extra)
        self.file.name = self.file_name


def blob_path(sha256: str) -> Path:
    return Path(settings.BLOB_DIR) / sha256[:2] / sha256[2:4] / sha256


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 5987 `filename*`."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(sha256: str, filename: str, mime_type: str) -> FileResponse:
    """A stored file, always as a download and never sniffed into a page (pages and API alike). A blob
    missing from storage is a 404 and an error in the log, never a 500."""
    try:
        handle = blob_path(sha256).open("rb")
    except OSError:
        logger.error("blob %s (%s) is missing from storage", sha256, filename)
        raise NotFound(_("The file is missing from storage; an admin has been told.")) from None
    response = FileResponse(handle, content_type=mime_type)
    response["Content-Disposition"] = content_disposition(filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def clean_filename(name: str) -> str:
    """Keep the last path component, drop control characters, and shorten a long name to
    MAX_FILENAME characters keeping a short extension; templates escape the rest."""
    base = os.path.basename((name or "").replace("\\", "/")).strip()
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = base.lstrip(".")
    if len(base) > MAX_FILENAME:
        stem, ext = os.path.splitext(base)
        keep = ext if 1 < len(ext) <= MAX_EXTENSION else ""
        base = stem[: MAX_FILENAME - len(keep)] + keep
    if not base:
        raise Invalid(fields={"file": _("The file needs a name.")})
    return base


def sniff_type(head: bytes, filename: str) -> str:
    """The type from the content's magic bytes; text formats by a UTF-8 check and the extension."""
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime == "application/zip":
            lowered = filename.lower()
            if lowered.endswith(".docx"):
                return DOCX
            if lowered.endswith(".xlsx"):
                return XLSX
        return kind.mime
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:  # a multibyte character cut at the end of the sample is fine
            return "application/octet-stream"
    return _TEXT_EXTENSIONS.get(Path(filename).suffix.lower(), "text/plain")


def store_upload(chunks, limit: int | None = None) -> tuple[str, int, Path]:
    """Write an upload to a temporary file in the blob folder, hashing as it streams.

    Returns (sha256, size, temp path); the caller moves it into place with `commit_blob`.
    Raises TooLarge past the limit, leaving nothing behind.
    """
    limit = settings.UPLOAD_LIMIT_BYTES if limit is None else limit
    blob_dir = Path(settings.BLOB_DIR)
    blob_dir.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=blob_dir, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise TooLarge(
                        _("The file is larger than the limit of %(mb)s MB.") % {"mb": limit // (1024 * 1024)},
                        fields={"file": _("larger than %(mb)s MB") % {"mb": limit // (1024 * 1024)}},
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return digest.hexdigest(), size, Path(tmp_name)


def commit_blob(sha256: str, tmp_path: Path) -> Path:
    """Move a written upload to its content address (or drop it if the content is already there)."""
    final = blob_path(sha256)
    if final.exists():
        tmp_path.unlink(missing_ok=True)
        return final
    final.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp_path, final)
    return final
