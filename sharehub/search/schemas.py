"""Request and response shapes of the search API.

The filters are typed with their choices, so the OpenAPI document lists them and a wrong `kind`,
`sharing_type`, `updated`, `sort`, `page` or `page_size` comes back as 422 naming the field, with the
choices, in the caller's language. An empty value (`kind=`) means no filter, like a missing one.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from ninja import Field, Schema
from pydantic import BaseModel

from sharehub.catalog.models import Resource
from sharehub.org.schemas import DbId, PersonRef, StrictSchema
from sharehub.search.queries import MAX_PAGE, MAX_PAGE_SIZE, PAGE_SIZE, SORTS, UPDATED_BUCKETS

Updated = StrEnum("Updated", [(name, name) for name, _days, _label in UPDATED_BUCKETS])
Sort = StrEnum("Sort", [(name, name) for name in SORTS])


class SearchIn(Schema):
    q: str = Field(
        "",
        description='Words, "quoted phrases", -excluded words, OR (in capitals) between two words or phrases, '
        "and the filters dept: (a department's name or code), kind: and tag: (a value may be quoted: "
        'dept:"Human Resources"). Chinese, English and pinyin of one word or several (`shebao`, `sb`, `sbjf`).',
    )
    department: list[DbId] = Field(
        default_factory=list, description="Owner department ids (their sub-departments included); repeatable"
    )
    kind: list[Resource.Kind] = Field(default_factory=list, description="Repeatable")
    tag: list[str] = Field(default_factory=list, description="A tag name; repeatable (all must match)")
    sharing_type: list[Resource.SharingType] = Field(default_factory=list, description="Repeatable")
    updated: Updated | None = Field(None, description="Last change")
    sort: Sort = Field(Sort.relevance, description="`date` is newest change first (the order without words)")
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number")
    page_size: int = Field(PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Results per page")


# The search answer is built as plain dicts: plain pydantic models validate them in pydantic-core, where
# ninja's Schema would wrap every nested value (up to 200 department facets) in its ORM getter first.
class DepartmentBrief(BaseModel):
    id: int
    name: str


class SearchHitOut(BaseModel):
    id: int
    code: str
    title: str
    title_html: str = Field(description="The title, escaped, with the matched words in <mark>")
    kind: Resource.Kind
    sharing_type: Resource.SharingType
    status: Resource.Status
    department: DepartmentBrief = Field(description="The owner department")
    updated_at: datetime
    score: float = Field(description="Relevance (higher is better); 0 when the query has no words")
    can_read: bool = Field(description="Whether the caller may read the content (body, attachments)")
    snippet_html: str = Field(
        description="A passage with the matched words in <mark>; quoted from the content only for callers who "
        "may read it, otherwise from the catalog entry"
    )
    snippet_source: str = Field(description="What was quoted: `summary`, `catalog`, `body` or an attachment's name")
    url: str = Field(description="The resource's web page")
    api_url: str = Field(description="The resource in this API")


class FacetValueOut(BaseModel):
    value: str = Field(description="Pass as the filter of the same name")
    label: str
    count: int = Field(description="Matching resources the caller may see")
    selected: bool


class FacetsOut(BaseModel):
    department: list[FacetValueOut]
    kind: list[FacetValueOut]
    tag: list[FacetValueOut]
    sharing_type: list[FacetValueOut]
    updated: list[FacetValueOut]


class SearchOut(BaseModel):
    query: str
    total: int = Field(description="Matching resources the caller may see")
    page: int
    pages: int
    page_size: int
    results: list[SearchHitOut]
    facets: FacetsOut
    unknown_filters: dict[str, list[str]] = Field(
        description="Values of dept: or kind: in the query that matched nothing, by filter name; when any is "
        "present the search returns no results"
    )


class SuggestionOut(Schema):
    kind: str = Field(description="`resource` or `tag`")
    label: str
    html: str = Field(description="The label, escaped, with the typed words in <mark>")
    url: str = Field(description="The resource's page, or the search page filtered by the tag")


class SavedSearchIn(StrictSchema):
    name: str = ""
    query: str = ""
    filters: dict[str, Any] | None = Field(
        None,
        description="Any of `department`, `kind`, `tag`, `sharing_type`, `updated`, `sort`, as in GET /search; "
        "a value or a list of values",
    )


class SavedSearchOut(Schema):
    id: int
    name: str
    query: str
    filters: dict[str, list[str]]
    created_at: datetime
    search_url: str = Field(description="The web search page with this query and its filters applied")


class TermIn(StrictSchema):
    text: str = ""
    note: str = ""


class TermOut(Schema):
    id: int
    text: str
    note: str
    created_by: PersonRef | None
    created_at: datetime
