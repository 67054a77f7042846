"""Help pages and the first-run tour's endpoint."""

from django.urls import path

from sharehub.knowledge import views_help

urlpatterns = [
    path("", views_help.index, name="help"),
    path("tour/seen/", views_help.tour_seen, name="tour-seen"),
    path("<slug:topic>/", views_help.topic, name="help-page"),
]
