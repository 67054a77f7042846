from django.urls import path

from sharehub.org import views

app_name = "org"
urlpatterns = [
    path("departments/", views.departments, name="departments"),
    path("departments/<id:pk>/", views.department, name="department"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<id:pk>/revoke/", views.token_revoke, name="token_revoke"),
    path("tokens/all/", views.all_tokens, name="all_tokens"),
    path("tokens/all/<id:pk>/revoke/", views.any_token_revoke, name="any_token_revoke"),
]
