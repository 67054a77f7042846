from django.urls import path

from sharehub.exchange import views

app_name = "exchange"
urlpatterns = [
    path("resources/<str:ident>/data/", views.data, name="data"),
    path("resources/<str:ident>/data/schema/", views.schema_edit, name="schema"),
    path("resources/<str:ident>/data/import/", views.import_start, name="import"),
    path("resources/<str:ident>/data/import/<id:job>/", views.import_job, name="import_job"),
    path("resources/<str:ident>/data/import/<id:job>/errors.csv", views.import_errors, name="import_errors"),
    path("resources/<str:ident>/data/delete-all/", views.delete_all, name="delete_all"),
    path("resources/<str:ident>/data/sources/", views.dataset_sources, name="sources"),
]
