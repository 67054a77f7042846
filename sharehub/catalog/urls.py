from django.urls import path

from sharehub.web.views import home

app_name = "catalog"
urlpatterns = [
    path("resources/", home, name="list"),  # replaced by the catalog pages
]
