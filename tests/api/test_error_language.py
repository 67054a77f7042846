"""Errors answer in the caller's language (invariant 5): the reasons pydantic gives for a field are
ours, translated, for the common kinds of mistake."""

from __future__ import annotations

import json

from django.test import Client


def _post_resource(user, payload: dict, language: str):
    client = Client()
    client.force_login(user)
    return client.post(
        "/api/v1/resources",
        json.dumps(payload),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE=language,
    )


def test_wrong_type_is_explained_in_chinese(people, org_units, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    payload = {"owner_department": "x", "kind": "document", "title": "标题", "publish": "maybe"}
    body = _post_resource(people["tax_steward"], payload, "zh-CN").json()["error"]
    assert body["code"] == "invalid"
    assert body["message"] == "部分字段有误。"
    assert body["fields"]["owner_department"] == "必须是整数。"
    assert body["fields"]["publish"] == "必须是 true 或 false。"


def test_the_same_error_in_english(people, org_units):
    payload = {"owner_department": "x", "kind": "document", "title": "Title"}
    body = _post_resource(people["tax_steward"], payload, "en").json()["error"]
    assert body["fields"]["owner_department"] == "Must be a whole number."


def test_missing_field_is_required_in_chinese(people, org_units, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    body = _post_resource(people["tax_steward"], {"kind": "document"}, "zh-CN").json()["error"]
    assert body["fields"]["title"] == "此项必填。"
