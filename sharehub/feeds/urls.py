from django.urls import path

from sharehub.feeds import views

app_name = "feeds"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="read_all"),
    path("notifications/<id:nid>/read/", views.mark_read, name="read"),
]
