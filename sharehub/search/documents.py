"""What of a resource is searchable, split by who may match it.

`catalog` text is part of the catalog entry (anyone who sees the entry may match it); `content` text
(body, attachment text) may only be matched, ranked on or quoted by people who may read it."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Prefetch

from sharehub.catalog.models import Attachment, Resource
from sharehub.search.segment import Segmenter

ATTACHMENT_TEXT_LIMIT = 200_000
# What the indexer writes; raised when the same text gives other terms, so that the entries of an older
# format are found (`services.check_index`) and rebuilt (`sharehub reindex`). 2: the pinyin of words
# side by side (`segment.pinyin_phrases`).
INDEX_FORMAT = 2


@dataclass(frozen=True)
class SourceText:
    resource_id: int
    title: str
    catalog: str
    content: str

    @property
    def digest(self) -> str:
        hasher = hashlib.sha256()
        for part in (self.title, self.catalog, self.content):
            hasher.update(part.encode("utf-8", "surrogatepass"))
            hasher.update(b"\x00")
        return hasher.hexdigest()


@dataclass(frozen=True)
class IndexDocument:
    """Space-separated terms per column, the same for every backend."""

    resource_id: int
    digest: str
    title: str
    catalog: str
    content: str
    catalog_extra: str
    content_extra: str


def resources_for_index(ids: Iterable[int] | None = None):
    queryset = Resource.objects.select_related("owner_department", "category", "project").prefetch_related(
        "tags",
        "dataset__fields",  # a dataset's field list is part of its catalog text
        Prefetch(
            "attachments",
            queryset=Attachment.objects.filter(removed_at__isnull=True).select_related("blob"),
            to_attr="live_attachments",
        ),
    )
    if ids is not None:
        queryset = queryset.filter(pk__in=list(ids))
    return queryset.order_by("pk")


def _field_lines(fields) -> list[str]:
    lines = []
    for item in fields or []:
        if isinstance(item, dict):
            lines.append(" ".join(str(item.get(key) or "") for key in ("name", "label_zh", "label_en", "description")))
        else:
            lines.append(str(item))
    return lines


def source_text(resource: Resource) -> SourceText:
    """The text of a resource, as searched and as quoted in snippets."""
    catalog_parts = [
        resource.code,
        resource.summary,
        " ".join(tag.name for tag in resource.tags.all()),
        resource.owner_department.name,
        resource.category.name if resource.category_id else "",
        resource.project.name if resource.project_id else "",
        *_field_lines(resource.dataset_fields),
        resource.conditions,
        resource.terms_of_use,
    ]
    attachments = getattr(resource, "live_attachments", None)
    if attachments is None:
        attachments = resource.attachments.filter(removed_at__isnull=True).select_related("blob")
    content_parts = [resource.body]
    for attachment in attachments:
        content_parts.append(attachment.filename)
        content_parts.append(attachment.blob.text[:ATTACHMENT_TEXT_LIMIT])
    return SourceText(
        resource_id=resource.pk,
        title=resource.title,
        catalog="\n".join(p for p in catalog_parts if p),
        content="\n".join(p for p in content_parts if p),
    )


def index_document(source: SourceText, segmenter: Segmenter) -> IndexDocument:
    title_words, title_extra = segmenter.index_terms(source.title, pinyin=True)
    catalog_words, catalog_extra = segmenter.index_terms(source.catalog, pinyin=True)
    content_words, content_inner = segmenter.index_terms(source.content)
    return IndexDocument(
        resource_id=source.resource_id,
        digest=source.digest,
        title=" ".join(title_words),
        catalog=" ".join(catalog_words),
        content=" ".join(content_words),
        catalog_extra=" ".join(title_extra + catalog_extra),
        content_extra=" ".join(content_inner),
    )
