"""REST API of the knowledge side: help. The list of help pages and their search (signed in, like the rest of
the API; the pages themselves are open to anyone)."""

from __future__ import annotations

from django.utils.translation import get_language
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema

from sharehub.errors import Invalid
from sharehub.knowledge import help_pages

router = Router(tags=["knowledge"])
MAX_QUERY = 200


class HelpTopicOut(Schema):
    topic: str = Field(description="The slug: /help/<topic>/ on the web")
    group: str
    title: str
    summary: str
    language: str = Field(description="The language of the title and summary (the caller's, else the other)")
    url: str


class HelpHitOut(Schema):
    topic: str
    title: str = Field(description="HTML: the title with the query words in <mark>")
    section: str
    url: str = Field(description="The page, at the section that matched best")
    snippet: str = Field(description="HTML: a passage of that section with the query words in <mark>")


def _url(topic: str, anchor: str = "") -> str:
    from django.urls import reverse

    url = reverse("knowledge:help") if topic == "index" else reverse("knowledge:help-page", args=[topic])
    return f"{url}#{anchor}" if anchor else url


@router.get("/help/topics", response=list[HelpTopicOut], summary="List the help pages")
def help_topics(request):
    out = []
    for key, _label, group_pages in help_pages.grouped(get_language()):
        for page in group_pages:
            out.append(
                {
                    "topic": page.topic,
                    "group": key,
                    "title": page.title,
                    "summary": page.summary,
                    "language": page.language,
                    "url": _url(page.topic),
                }
            )
    return out


@router.get("/help/search", response=list[HelpHitOut], summary="Search the help pages")
def help_search(request, q: str = ""):
    if len(q) > MAX_QUERY:
        raise Invalid(fields={"q": _("At most %(n)s characters.") % {"n": MAX_QUERY}})
    hits = help_pages.search(q, get_language())
    return [
        {
            "topic": hit.topic,
            "title": str(hit.title),
            "section": hit.section,
            "url": _url(hit.topic, hit.anchor),
            "snippet": str(hit.snippet),
        }
        for hit in hits
    ]
