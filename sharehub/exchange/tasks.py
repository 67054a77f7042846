"""The exchange app's periodic job, run by the worker: deadlines of corrections."""

from sharehub.exchange.corrections import sweep
from sharehub.worker import register_periodic

register_periodic("corrections sweep", sweep)
