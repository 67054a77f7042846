"""The feeds' periodic job, run by the worker: email of what people follow."""

from sharehub.feeds import mail
from sharehub.worker import register_periodic

register_periodic("mail", mail.run)
