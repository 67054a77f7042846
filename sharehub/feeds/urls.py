from django.urls import path

from sharehub.feeds import views

app_name = "feeds"
urlpatterns = [
    path("notifications/", views.notification_list, name="list"),
    path("notifications/read/", views.mark_read, name="read_all"),
    path("notifications/<id:nid>/read/", views.mark_read, name="read"),
    path("notifications/latest/", views.latest, name="latest"),
    path("notifications/stream/", views.stream_once, name="stream"),  # sharehub.asgi serves it live
    path("following/", views.following, name="following"),
    path("following/follow/", views.follow, name="follow"),
    path("following/unfollow/", views.unfollow, name="unfollow"),
    path("following/mail/", views.mail_settings, name="mail_settings"),
    path("mail/unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
    path("webhooks/", views.webhook_list, name="webhooks"),
    path("webhooks/<id:pk>/", views.webhook_detail, name="webhook"),
    path("webhooks/inbound/", views.inbound_list, name="inbound"),
    path("webhooks/inbound/<id:pk>/", views.inbound_detail, name="inbound_hook"),
    path("hooks/in/<str:token>/", views.inbound_receive, name="inbound_receive"),
]
