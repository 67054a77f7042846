"""REST API of the knowledge side: help."""

from ninja import Router

router = Router(tags=["knowledge"])
