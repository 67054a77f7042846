from django.urls import path

from sharehub.feeds import views

app_name = "feeds"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="read_all"),
    path("notifications/<id:nid>/read/", views.mark_read, name="read"),
    path("following/", views.following, name="following"),
    path("following/follow/", views.follow, name="follow"),
    path("following/unfollow/", views.unfollow, name="unfollow"),
]
