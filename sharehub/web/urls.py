from django.urls import path

from sharehub.directory import views as directory_views
from sharehub.web import views

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", views.LoginView.as_view(), name="login"),
    path("accounts/logout/", directory_views.LogoutView.as_view(), name="logout"),  # at the OIDC provider too
    path("accounts/password/", views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", views.PasswordChangeDoneView.as_view(), name="password_change_done"),
]
