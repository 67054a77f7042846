"""REST API of the knowledge side: points."""

from ninja import Router

router = Router(tags=["knowledge"])
