"""`sharehub keys status|new|rotate|retire KID`: the keys that encrypt dataset fields at rest
(sharehub.exchange.crypto), and re-encrypting the stored values under the active key (sharehub.exchange.rotation)."""

from __future__ import annotations

from django.core.management.base import CommandError
from django.db import DatabaseError
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from sharehub.console import SharehubCommand, apply_migrations, progress, table
from sharehub.exchange import crypto


class Command(SharehubCommand):
    help = "Show, add and retire the keys that encrypt dataset fields. Keys live in the environment or the key file."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{status,new,rotate,retire}")
        actions.add_parser("status", help="show the active key, the keys kept for decrypting and the retired ones")
        new = actions.add_parser("new", help="add a random key and make it active; older keys stay for decrypting")
        new.add_argument(
            "--rotate", action="store_true", help="also have `sharehub worker` re-encrypt the stored values with it"
        )
        rotate = actions.add_parser(
            "rotate", help="re-encrypt every stored value with the active key; an interrupted run resumes"
        )
        rotate.add_argument("--batch", type=int, default=500, help="rows per transaction (default 500)")
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
        headers = [pgettext("field key", "key"), pgettext("field key", "state")]
        counts = self._counts([row[0] for row in rows])
        if counts is not None:
            headers.append(_("stored values"))
            rows = [[*row, counts[row[0]]] for row in rows]
        self.stdout.write(table(headers, rows))
        if counts is None:
            self.stdout.write(_("(The database cannot be read, so how many values use each key is not shown.)"))

    def _counts(self, kids: list[str]) -> dict[str, int] | None:
        """Values per key, or None when the database is not reachable or not set up yet."""
        from sharehub.exchange.rotation import values_using

        try:
            return {kid: values_using(kid) for kid in kids}
        except DatabaseError:
            return None

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
        if options.get("rotate"):
            apply_migrations(self)
            from sharehub.exchange.rotation import queue

            queue()
            self.stdout.write(
                _("Queued: `sharehub worker` (or `sharehub serve`) re-encrypts the stored values with %(kid)s.")
                % {"kid": kid}
            )
        self.stdout.write(kid)

    def _rotate(self, options) -> None:
        if options["batch"] < 1:
            raise CommandError(_("--batch must be at least 1."))
        apply_migrations(self)
        from sharehub.exchange import rotation

        bar = None

        def report(done: int, total: int) -> None:
            nonlocal bar
            if bar is None:
                bar = progress(self, total, _("Re-encrypting"), unit=_("values"))
            bar.total = total
            bar.update(done - bar.n)

        try:
            result = rotation.rotate(report, batch=options["batch"])
        except KeyboardInterrupt:
            raise CommandError(
                _("Interrupted; what was re-encrypted is kept, and `sharehub keys rotate` resumes from there.")
            ) from None
        finally:
            if bar is not None:
                bar.close()
        self.stdout.write(
            self.style.SUCCESS(
                _("Re-encrypted %(count)s values with key %(kid)s.")
                % {"count": result.rewritten, "kid": result.target_key}
            )
        )
        for kid in crypto.keyring().kids:
            if kid == result.target_key:
                continue
            left = rotation.values_using(kid)
            if left:
                self.stdout.write(
                    _("%(kid)s still encrypts %(count)s values written meanwhile; run `sharehub keys rotate` again.")
                    % {"kid": kid, "count": left}
                )
            elif crypto.status().from_env:
                self.stdout.write(
                    _("%(kid)s is no longer used; remove it from %(name)s and restart.")
                    % {"kid": kid, "name": crypto.FIELD_KEYS_ENV}
                )
            else:
                self.stdout.write(
                    _("%(kid)s is no longer used; `sharehub keys retire %(kid)s` removes it.") % {"kid": kid}
                )

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
