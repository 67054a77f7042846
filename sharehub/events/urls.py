from django.urls import path

from sharehub.web.views import home

app_name = "events"
urlpatterns = [
    path("audit/", home, name="audit"),  # replaced by the audit page
]
