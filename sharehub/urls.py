from django.contrib import admin
from django.urls import include, path, register_converter

from sharehub.api import api
from sharehub.validation import IdConverter
from sharehub.web import views as web_views

register_converter(IdConverter, "id")

urlpatterns = [
    path("i18n/setlang/", web_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("", include("sharehub.web.urls")),
    path("", include("sharehub.org.urls")),
    path("", include("sharehub.catalog.urls")),
    path("", include("sharehub.events.urls")),
    path("", include("sharehub.access.urls")),
    path("", include("sharehub.exchange.urls")),
    path("", include("sharehub.feeds.urls")),
    path("", include("sharehub.search.urls")),
    path("", include("sharehub.directory.urls")),
    path("", include("sharehub.knowledge.urls")),
    path("", include("sharehub.ops.urls")),  # /health/live, /health/ready, /metrics
]

handler400 = "sharehub.web.views.bad_request"
handler403 = "sharehub.web.views.permission_denied"
handler404 = "sharehub.web.views.not_found"
handler500 = "sharehub.web.views.server_error"
