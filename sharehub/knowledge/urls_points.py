"""Pages of the knowledge side: recognition (leaderboards, points explained, weights)."""

from django.urls import path

from sharehub.knowledge import views_points as views

urlpatterns = [
    path("", views.leaderboard, name="leaderboard"),
    path("me/", views.me, name="recognition-me"),
    path("people/<int:person_id>/", views.person, name="recognition-person"),
    path("departments/<int:department_id>/", views.department, name="recognition-department"),
    path("weights/", views.weights, name="recognition-weights"),
]
