from django.urls import path

from bench.api.hello import views

urlpatterns = [path("", views.hello), path("insert", views.insert)]
