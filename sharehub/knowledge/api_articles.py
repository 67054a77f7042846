"""REST API of the knowledge side: articles."""

from ninja import Router

router = Router(tags=["knowledge"])
