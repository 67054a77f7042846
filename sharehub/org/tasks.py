"""The organization's periodic job, run by the worker: telling owners their API tokens end soon."""

from sharehub.org.services import announce_expiring_tokens
from sharehub.worker import register_periodic

register_periodic("token expiry", announce_expiring_tokens)
