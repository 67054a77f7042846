"""Help pages (filled by the help part)."""

from django.http import Http404
from django.urls import path


def _page(request, topic):  # replaced by the help part's views
    raise Http404


urlpatterns = [
    path("", _page, {"topic": "index"}, name="help"),
    path("<slug:topic>/", _page, name="help-page"),
]
