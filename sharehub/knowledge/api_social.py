"""REST API of the knowledge side: social."""

from ninja import Router

router = Router(tags=["knowledge"])
