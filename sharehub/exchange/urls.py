from django.urls import path

from sharehub.exchange import views, views_corrections

app_name = "exchange"
urlpatterns = [
    path("resources/<str:ident>/data/", views.data, name="data"),
    path("resources/<str:ident>/data/schema/", views.schema_edit, name="schema"),
    path("resources/<str:ident>/data/import/", views.import_start, name="import"),
    path("resources/<str:ident>/data/import/<id:job>/", views.import_job, name="import_job"),
    path("resources/<str:ident>/data/import/<id:job>/errors.csv", views.import_errors, name="import_errors"),
    path("resources/<str:ident>/data/delete-all/", views.delete_all, name="delete_all"),
    path("resources/<str:ident>/data/corrections/", views_corrections.correction_list, name="corrections"),
    path("resources/<str:ident>/data/corrections/report/", views_corrections.correction_report, name="report"),
    path(
        "resources/<str:ident>/data/corrections/<id:cid>/file/",
        views_corrections.correction_file,
        name="correction_file",
    ),
    path(
        "resources/<str:ident>/data/corrections/<id:cid>/<str:decision>/",
        views_corrections.correction_decide,
        name="decide",
    ),
    path("resources/<str:ident>/data/consents/", views_corrections.consent_list, name="consents"),
    path("resources/<str:ident>/data/consents/new/", views_corrections.consent_create, name="consent_create"),
    path("resources/<str:ident>/data/consents/import/", views_corrections.consent_import, name="consent_import"),
    path(
        "resources/<str:ident>/data/consents/<id:consent_id>/withdraw/",
        views_corrections.consent_withdraw,
        name="consent_withdraw",
    ),
    path("resources/<str:ident>/data/sources/", views.dataset_sources, name="sources"),
]
