"""The knowledge side's REST API: one router made of each part's (articles, questions, sessions, comments and
ratings, recognition, help)."""

from ninja import Router

from sharehub.knowledge import api_articles, api_help, api_points, api_qa, api_sessions, api_social

router = Router(tags=["knowledge"])
for part in (api_articles, api_qa, api_sessions, api_social, api_points, api_help):
    router.add_router("", part.router)
