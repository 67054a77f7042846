"""Pages of the knowledge side: questions and answers (mounted under /questions/)."""

from django.urls import path

from sharehub.knowledge import views_qa as views

urlpatterns = [
    path("", views.question_list, name="questions"),
    path("ask/", views.ask, name="question-ask"),
    path("similar/", views.similar, name="question-similar"),
    path("<id:pk>/", views.question_detail, name="question"),
    path("<id:pk>/edit/", views.question_edit, name="question-edit"),
    path("<id:pk>/answer/", views.answer, name="question-answer"),
    path("<id:pk>/close/", views.close, name="question-close"),
    path("<id:pk>/answers/<id:aid>/edit/", views.answer_edit, name="answer-edit"),
    path("<id:pk>/answers/<id:aid>/vote/", views.vote, name="answer-vote"),
    path("<id:pk>/answers/<id:aid>/accept/", views.accept, name="answer-accept"),
    path("<id:pk>/answers/<id:aid>/article/", views.to_article, name="answer-article"),
]
