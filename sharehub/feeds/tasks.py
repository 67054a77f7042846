"""The feeds' periodic jobs, run by the worker: email of what people follow, webhook deliveries."""

from sharehub.feeds import mail, webhooks
from sharehub.worker import register_periodic

register_periodic("mail", mail.run)
register_periodic("webhooks", webhooks.run)
