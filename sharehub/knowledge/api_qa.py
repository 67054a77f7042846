"""REST API of the knowledge side: qa."""

from ninja import Router

router = Router(tags=["knowledge"])
