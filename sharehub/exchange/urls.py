from django.urls import path

from sharehub.exchange import views

app_name = "exchange"
urlpatterns = [
    path("datasets/<str:ident>/sources/", views.dataset_sources, name="sources"),
]
