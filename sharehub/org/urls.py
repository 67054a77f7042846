from django.urls import include, path

from sharehub.org import views

app_name = "org"
urlpatterns = [
    path("departments/", views.departments, name="departments"),
    path("departments/<id:pk>/", views.department, name="department"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("tokens/all/", views.all_tokens, name="all_tokens"),
    path("tokens/all/<id:pk>/revoke/", views.any_token_revoke, name="any_token_revoke"),
    path("manage/", include("sharehub.org.manage.home")),
    path("manage/departments/", include("sharehub.org.manage.departments")),
    path("manage/people/", include("sharehub.org.manage.people")),
    path("manage/imports/", include("sharehub.org.manage.imports")),
    path("manage/service-accounts/", include("sharehub.org.manage.accounts")),
    path("manage/sign-ins/", include("sharehub.org.manage.signins")),
    path("manage/settings/", include("sharehub.org.manage.settings")),
]
