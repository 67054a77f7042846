from django.urls import path

from sharehub.directory import views

app_name = "directory"
urlpatterns = [
    path("accounts/oidc/login/", views.oidc_login, name="oidc_login"),
    path("accounts/oidc/callback/", views.oidc_callback, name="oidc_callback"),
    path("directory/rules/", views.rules, name="rules"),
    path("directory/rules/preview/", views.rule_preview, name="rule_preview"),
    path("directory/rules/<id:pk>/", views.rule_edit, name="rule_edit"),
    path("directory/rules/<id:pk>/delete/", views.rule_delete, name="rule_delete"),
    path("directory/rules/<id:pk>/move/", views.rule_move, name="rule_move"),
]
