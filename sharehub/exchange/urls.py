from django.urls import path

from sharehub.exchange import views

app_name = "exchange"
urlpatterns = [
    path("datasets/<str:ident>/corrections/", views.correction_list, name="corrections"),
    path("datasets/<str:ident>/corrections/report/", views.correction_report, name="report"),
    path("datasets/<str:ident>/corrections/<id:cid>/file/", views.correction_file, name="correction_file"),
    path(
        "datasets/<str:ident>/corrections/<id:cid>/<str:decision>/",
        views.correction_decide,
        name="decide",
    ),
    path("datasets/<str:ident>/consents/", views.consent_list, name="consents"),
    path("datasets/<str:ident>/consents/new/", views.consent_create, name="consent_create"),
    path("datasets/<str:ident>/consents/import/", views.consent_import, name="consent_import"),
    path("datasets/<str:ident>/consents/<id:consent_id>/withdraw/", views.consent_withdraw, name="consent_withdraw"),
]
