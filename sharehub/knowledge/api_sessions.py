"""REST API of the knowledge side: sessions."""

from ninja import Router

router = Router(tags=["knowledge"])
