"""Pages of the knowledge base (mounted at /knowledge/): spaces, page trees, articles, the article form."""

from django.urls import path

from sharehub.knowledge import views_articles as views

urlpatterns = [
    path("", views.home, name="home"),
    path("spaces/<id:department_id>/", views.space, name="space"),
    path("articles/new/", views.article_new, name="article-new"),
    path("preview/", views.preview, name="article-preview"),
    path("cite-search/", views.cite_search, name="cite-search"),
    path("articles/<str:code>/", views.article_detail, name="article"),
    path("articles/<str:code>/edit/", views.article_edit, name="article-edit"),
    path("articles/<str:code>/publish/", views.article_publish, name="article-publish"),
    path("articles/<str:code>/review/", views.article_submit, name="article-review"),
    path("articles/<str:code>/images/", views.image_upload, name="article-image"),
]
