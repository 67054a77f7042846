"""The access process's periodic job, run by the worker."""

from sharehub.access.services import sweep
from sharehub.worker import register_periodic

register_periodic("access sweep", sweep)
