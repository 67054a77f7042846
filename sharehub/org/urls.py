from django.urls import path

from sharehub.web.views import home

app_name = "org"
urlpatterns = [
    path("departments/", home, name="departments"),  # replaced by the organization pages
    path("tokens/", home, name="tokens"),
]
