"""Pages of the knowledge side: comments, ratings and "this helped me" on any resource (articles included)."""

from django.urls import path

from sharehub.knowledge import views_social as views

urlpatterns = [
    path("r/<str:ident>/comments/", views.comments, name="social-comments"),
    path("r/<str:ident>/comments/<id:cid>/edit/", views.comment_edit, name="social-comment-edit"),
    path("r/<str:ident>/comments/<id:cid>/hide/", views.comment_hide, name="social-comment-hide"),
    path("r/<str:ident>/comments/<id:cid>/show/", views.comment_show, name="social-comment-show"),
    path("r/<str:ident>/rating/", views.rating, name="social-rating"),
    path("r/<str:ident>/helped/", views.helped, name="social-helped"),
    path("r/<str:ident>/helped/withdraw/", views.helped_withdraw, name="social-helped-withdraw"),
]
