from django.urls import path, re_path

from sharehub.catalog import views

app_name = "catalog"
urlpatterns = [
    path("resources/", views.resource_list, name="list"),
    path("resources/export.csv", views.export_csv, name="export"),
    path("resources/new/", views.resource_create, name="create"),
    path("reviews/", views.review_queue, name="reviews"),
    path("resources/<str:ident>/", views.resource_detail, name="detail"),
    path("resources/<str:ident>/edit/", views.resource_edit, name="edit"),
    path("resources/<str:ident>/sharing/", views.resource_sharing, name="sharing"),
    path("resources/<str:ident>/versions/", views.resource_versions, name="versions"),
    path("resources/<str:ident>/diff/", views.resource_diff, name="diff"),
    path("resources/<str:ident>/explain/", views.resource_explain, name="explain"),
    path("resources/<str:ident>/attachments/", views.attachment_add, name="attach"),
    path("resources/<str:ident>/attachments/<id:aid>/", views.attachment_download, name="attachment"),
    path("resources/<str:ident>/attachments/<id:aid>/remove/", views.attachment_remove, name="detach"),
    path("resources/<str:ident>/review/", views.review_submit, name="review_submit"),
    path("resources/<str:ident>/review/publish/", views.review_publish, name="review_publish"),
    path("resources/<str:ident>/review/return/", views.review_return, name="review_return"),
    re_path(
        r"^resources/(?P<ident>[^/]+)/(?P<verb>publish|archive|restore)/$", views.resource_transition, name="transition"
    ),
]
