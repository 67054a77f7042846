from django.urls import path

from sharehub.events import views

app_name = "events"
urlpatterns = [
    path("audit/", views.audit, name="audit"),
    path("audit/verify/", views.audit_verify, name="audit_verify"),
    path("audit/export.csv", views.audit_export, name="audit_export"),
    path("audit/export.jsonl", views.audit_export_signed, name="audit_export_signed"),
]
