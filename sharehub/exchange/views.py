"""Pages of the exchange app. Thin: parse, call `exchange.overlap` / `exchange.queries`, render."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from sharehub.access.fields import describe
from sharehub.catalog.views import page
from sharehub.exchange.overlap import find_overlaps


@page
def dataset_sources(request, ident):
    """一数一源: where the people and companies of a dataset are held already, for its owner's members."""
    report = find_overlaps(request.user, ident)
    rows = []
    for overlap in report.overlaps:
        other = overlap.resource
        request_url = reverse("access:request", args=[other.code])
        if overlap.sources:
            request_url += "?" + urlencode([("fields", name) for name in overlap.sources])
        rows.append(
            {
                "o": overlap,
                "percent": round(100 * overlap.share),
                "sources": describe(other, overlap.sources),
                "pairs": list(
                    zip(
                        describe(report.resource, [here for here, _there in overlap.pairs]),
                        describe(other, [there for _here, there in overlap.pairs]),
                        strict=True,
                    )
                ),
                "request_url": request_url,
            }
        )
    context = {"resource": report.resource, "report": report, "rows": rows}
    return render(request, "exchange/sources.html", context)
