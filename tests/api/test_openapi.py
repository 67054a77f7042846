"""The OpenAPI document (issue 10, item 1.4): one schema per name, and every error documented."""

from __future__ import annotations

import pytest
from ninja.openapi import schema as openapi

from sharehub.api import api


@pytest.fixture
def document_and_clashes(monkeypatch):
    """The document, and the component names two different schemas were written under."""
    seen, clashes = {}, set()
    keep = openapi.OpenAPISchema.add_schema_definitions

    def recording(self, definitions):
        for name, definition in definitions.items():
            if seen.setdefault(name, definition) != definition:
                clashes.add(name)
        return keep(self, definitions)

    monkeypatch.setattr(openapi.OpenAPISchema, "add_schema_definitions", recording)
    return api.get_openapi_schema(), clashes


def test_no_two_schemas_share_a_name(document_and_clashes):
    _document, clashes = document_and_clashes
    assert clashes == set()


def test_request_status_and_note_kind_have_their_own_enums(document_and_clashes):
    schemas = document_and_clashes[0]["components"]["schemas"]
    assert "approved" in schemas["RequestStatus"]["enum"]
    assert "submitted" in schemas["NoteKind"]["enum"]
    assert set(schemas["Status"]["enum"]) == {"draft", "published", "archived"}


def test_every_operation_documents_its_errors_with_the_error_schema(document_and_clashes):
    document = document_and_clashes[0]
    error = {"$ref": "#/components/schemas/ErrorOut"}
    for path, item in document["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            expected = {"401", "403", "429"}
            if "{" in path:
                expected.add("404")
            if method != "get":
                expected |= {"409", "503"}
            if "requestBody" in operation:
                expected |= {"400", "413", "422"}
            assert expected <= set(responses), (method, path, sorted(responses))
            for status in expected:
                assert responses[status]["content"]["application/json"]["schema"] == error, (method, path, status)
