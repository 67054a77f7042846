"""Pages of the knowledge side: social."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
