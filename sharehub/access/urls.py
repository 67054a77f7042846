from django.urls import path

from sharehub.access import views

app_name = "access"
urlpatterns = [
    path("resources/<str:ident>/request/", views.request_create, name="request"),
    path("resources/<str:ident>/grants/", views.resource_grants, name="resource_grants"),
    path("requests/", views.my_requests, name="mine"),
    path("requests/inbox/", views.inbox, name="inbox"),
    path("requests/inbox/decide/", views.inbox_bulk, name="bulk"),
    path("requests/handled/", views.handled, name="handled"),
    path("requests/overdue/", views.overdue, name="overdue"),
    path("requests/<id:rid>/", views.request_detail, name="detail"),
    path("requests/<id:rid>/approve/", views.request_approve, name="approve"),
    path("requests/<id:rid>/reject/", views.request_reject, name="reject"),
    path("requests/<id:rid>/ask/", views.request_ask, name="ask"),
    path("requests/<id:rid>/answer/", views.request_answer, name="answer"),
    path("requests/<id:rid>/withdraw/", views.request_withdraw, name="withdraw"),
    path("requests/<id:rid>/files/<id:aid>/", views.request_file, name="file"),
    path("grants/", views.my_grants, name="grants"),
    path("grants/<id:gid>/revoke/", views.grant_revoke, name="revoke"),
    path("calendar/", views.calendar_page, name="calendar"),
    path("calendar/<int:year>/", views.calendar_page, name="calendar_year"),
    path("calendar/<int:year>/load/", views.calendar_load, name="calendar_load"),
    path("calendar/local-days/", views.calendar_add, name="calendar_add"),
    path("calendar/local-days/<str:day>/remove/", views.calendar_remove, name="calendar_remove"),
]
