from django.urls import include, path

app_name = "knowledge"

urlpatterns = [
    path("knowledge/", include("sharehub.knowledge.urls_articles")),
    path("questions/", include("sharehub.knowledge.urls_qa")),
    path("sessions/", include("sharehub.knowledge.urls_sessions")),
    path("knowledge/", include("sharehub.knowledge.urls_social")),
    path("recognition/", include("sharehub.knowledge.urls_points")),
    path("help/", include("sharehub.knowledge.urls_help")),
]
