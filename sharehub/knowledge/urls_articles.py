"""Pages of the knowledge side: articles (placeholder until the part is built)."""

from django.http import Http404
from django.urls import path


def _placeholder(request):
    raise Http404


urlpatterns = [path("", _placeholder, name="home")]
