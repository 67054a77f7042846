from django.urls import path

from sharehub.ops import views

app_name = "ops"
urlpatterns = [
    path("health/live", views.live, name="live"),
    path("health/ready", views.ready, name="ready"),
    path("metrics", views.metrics, name="metrics"),
]
BARE_PATHS = frozenset(("/health/live", "/health/ready", "/metrics"))  # answered by OpsMiddleware itself
