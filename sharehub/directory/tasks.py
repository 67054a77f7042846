"""The periodic directory sync, run by the worker every SHAREHUB_DIRECTORY_SYNC_MINUTES (when LDAP is on)."""

from sharehub.directory.services import scheduled_sync
from sharehub.worker import register_periodic

register_periodic("directory sync", scheduled_sync)
