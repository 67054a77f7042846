"""Request bodies that carry the plaintext of dataset fields encrypted at rest (a records upsert, an
import file, a consents file) stay in memory: Django would spool a body over FILE_UPLOAD_MAX_MEMORY_SIZE
to a temporary file (the ASGI handler before any view runs, the multipart parser for a file), where the
plaintext would outlive the request on disk. Beyond PLAINTEXT_BODY_LIMIT they are refused with 413."""

from __future__ import annotations

import re

from django.core.files.uploadhandler import MemoryFileUploadHandler, StopUpload

PLAINTEXT_BODY_PATHS = re.compile(
    r"/(?:api/v1/datasets/[^/]+/(?:records|consents/import)|resources/[^/]+/data/(?:import|consents/import))/?"
)
PLAINTEXT_BODY_LIMIT = 64 * 1024 * 1024


def carries_plaintext(method: str, path: str) -> bool:
    return method == "POST" and PLAINTEXT_BODY_PATHS.fullmatch(path) is not None


class InMemoryUploadHandler(MemoryFileUploadHandler):
    """Every uploaded file in memory, whatever its size, up to PLAINTEXT_BODY_LIMIT; past it the upload
    stops and `request.upload_too_large` tells the view."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.activated = True

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > PLAINTEXT_BODY_LIMIT:
            self.request.upload_too_large = True
            raise StopUpload(connection_reset=True)
        return super().receive_data_chunk(raw_data, start)


class PlaintextBodiesMiddleware:
    """Sets the in-memory upload handler on the routes above, before anything reads the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if carries_plaintext(request.method, request.path_info):
            request.upload_handlers = [InMemoryUploadHandler(request)]
        return self.get_response(request)
