from django.urls import path

from sharehub.search import views

app_name = "search"
urlpatterns = [
    path("search/", views.search_page, name="page"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("search/saved/", views.saved_create, name="saved_create"),
    path("search/saved/<id:saved_id>/", views.saved_open, name="saved_open"),
    path("search/saved/<id:saved_id>/delete/", views.saved_delete, name="saved_delete"),
]
