"""`sharehub keys status|new|retire KID`: the keys that encrypt dataset fields at rest (sharehub.exchange.crypto)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sharehub.console import SharehubCommand, apply_migrations, table
from sharehub.exchange import crypto


class Command(SharehubCommand):
    help = "Show, add and retire the keys that encrypt dataset fields. Keys live in the environment or the key file."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{status,new,retire}")
        actions.add_parser("status", help="show the active key, the keys kept for decrypting and the retired ones")
        actions.add_parser("new", help="add a random key and make it active; older keys stay for decrypting")
        retire = actions.add_parser("retire", help="remove a key once no stored value is encrypted with it")
        retire.add_argument("kid", help="the key's id, such as k1 (see `keys status`)")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        try:
            getattr(self, f"_{options['action']}")(options)
        except crypto.KeyringError as error:
            raise CommandError(str(error)) from None

    def _status(self, options) -> None:
        state = crypto.status()
        if state.from_env:
            self.stdout.write(_("Keys come from the environment (%(name)s).") % {"name": state.source})
        else:
            self.stdout.write(_("Keys come from %(path)s.") % {"path": state.source})
        active, kept, retired = pgettext("field key", "active"), _("decrypts only"), pgettext("field key", "retired")
        rows = [[kid, active if kid == state.active_kid else kept] for kid in state.kids]
        rows += [[kid, retired] for kid in state.retired]
        self.stdout.write(table([pgettext("field key", "key"), pgettext("field key", "state")], rows))

    def _new(self, options) -> None:
        kid = crypto.new_key()
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Key %(kid)s is active: new values are encrypted with it, and running Sharehub processes take it "
                    "up by themselves. Back up %(path)s now."
                )
                % {"kid": kid, "path": crypto.key_file()}
            )
        )
        self.stdout.write(kid)

    def _retire(self, options) -> None:
        kid = options["kid"].strip()
        if not crypto.retire(kid, in_use=self._values_using):
            self.stdout.write(_("Key %(kid)s was retired already.") % {"kid": kid})
            return
        self.stdout.write(self.style.SUCCESS(_("Retired key %(kid)s: its key material is gone.") % {"kid": kid}))

    def _values_using(self, kid: str) -> int:
        """How many stored values key `kid` encrypts; asked only once the key may be retired at all."""
        apply_migrations(self)
        from sharehub.exchange.rotation import values_using

        return values_using(kid)
