"""Pages of the sharing sessions (分享会); see views_sessions for what each shows."""

from django.urls import path

from sharehub.knowledge import views_sessions as views

urlpatterns = [
    path("", views.session_list, name="sessions"),
    path("calendar/", views.session_calendar, name="session-calendar"),
    path("past/", views.session_past, name="session-past"),
    path("new/", views.session_create, name="session-create"),
    path("feed/", views.feed_page, name="session-feed-page"),
    path("feed/renew/", views.feed_renew, name="session-feed-renew"),
    path("feed/<str:token>.ics", views.feed_ics, name="session-feed"),
    path("<id:pk>/", views.session_detail, name="session"),
    path("<id:pk>/edit/", views.session_edit, name="session-edit"),
    path("<id:pk>/cancel/", views.session_cancel, name="session-cancel"),
    path("<id:pk>/signup/", views.signup_add, name="session-signup"),
    path("<id:pk>/signup/cancel/", views.signup_cancel, name="session-signup-cancel"),
    path("<id:pk>/invite.ics", views.session_ics, name="session-ics"),
    path("<id:pk>/materials/", views.material_add, name="session-material-add"),
    path("<id:pk>/materials/<id:mid>/", views.material_download, name="session-material"),
    path("<id:pk>/materials/<id:mid>/remove/", views.material_remove, name="session-material-remove"),
    path("<id:pk>/recording/", views.recording_set, name="session-recording"),
    path("<id:pk>/attendance/", views.attendance_mark, name="session-attendance"),
    path("<id:pk>/rate/", views.rate, name="session-rate"),
]
