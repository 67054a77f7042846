from django.urls import path

from sharehub.web import views

urlpatterns = [
    path("", views.home, name="home"),
]
