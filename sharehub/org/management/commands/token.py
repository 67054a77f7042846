"""`sharehub token create|list|revoke`: API tokens for people and service accounts.

The operator at the command line acts as the organization (actor None in the services).
"""

from __future__ import annotations

from django.core.management.base import CommandError
from django.utils import timezone

from sharehub.console import SharehubCommand, apply_migrations, table
from sharehub.errors import Invalid
from sharehub.org import scopes
from sharehub.org import services as org
from sharehub.org.models import ApiToken, User


def _user(username: str) -> User:
    user = User.objects.filter(username__iexact=username.strip()).first()
    if user is None:
        raise CommandError(f"There is no user named {username!r}.")
    return user


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class Command(SharehubCommand):
    help = "Create, list and revoke API tokens. `token create` prints the token as its last line."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="make a token for a person or service account")
        create.add_argument("username", help="whose token it is")
        create.add_argument("--name", default="", help='what the token is for (default "cli")')
        create.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            metavar="SCOPE",
            help="what it may do: read, write, or AREA:read / AREA:write with AREA one of "
            f"{', '.join(scopes.AREAS)}; repeat for several (default: write, i.e. everything its owner may)",
        )
        create.add_argument("--days", default=None, help="how many days it works (default SHAREHUB_TOKEN_DAYS, 90)")
        listing = actions.add_parser("list", help="show tokens, of everyone or of one user")
        listing.add_argument("username", nargs="?", help="only this user's tokens")
        revoke = actions.add_parser("revoke", help="revoke a token by its id (see `token list`)")
        revoke.add_argument("id", type=int, help="the token's id")

    def handle(self, *args, **options):
        self.verbosity = options["verbosity"]
        apply_migrations(self)
        getattr(self, f"_{options['action']}")(options)

    def _create(self, options) -> None:
        user = _user(options["username"])
        try:
            token, raw = org.issue_token(
                None,
                user,
                options["name"] or "cli",
                scopes=options["scopes"] or scopes.EVERYTHING,
                days=options["days"],
            )
        except Invalid as error:
            raise CommandError(" ".join(f"{field}: {reason}" for field, reason in error.fields.items())) from None
        self.stdout.write(
            f"Token {token.name!r} (id {token.pk}) for {user.username}, scopes {' '.join(token.scopes)}, works until "
            f"{_when(token.expires_at)}. Keep it secret: it is shown only this once."
        )
        self.stdout.write(raw)

    def _list(self, options) -> None:
        tokens = ApiToken.objects.select_related("user").order_by("id")
        if options["username"]:
            tokens = tokens.filter(user=_user(options["username"]))
        rows = [
            [t.pk, t.user.username, t.name, t.prefix + "…", " ".join(t.scopes), _when(t.created_at),
             _when(t.expires_at), _when(t.last_used_at), _when(t.revoked_at) if t.revoked_at else "no"]
            for t in tokens
        ]  # fmt: skip
        if not rows:
            self.stdout.write("No tokens.")
            return
        headers = ["id", "user", "name", "prefix", "scopes", "created", "ends", "last used", "revoked"]
        self.stdout.write(table(headers, rows))

    def _revoke(self, options) -> None:
        token = ApiToken.objects.select_related("user").filter(pk=options["id"]).first()
        if token is None:
            raise CommandError(f"There is no token with id {options['id']}; `sharehub token list` shows them.")
        if token.revoked_at is not None:
            self.stdout.write(f"Token {token.pk} ({token.name!r} of {token.user.username}) was revoked already.")
            return
        org.revoke_token(None, token)
        self.stdout.write(self.style.SUCCESS(f"Revoked token {token.pk} ({token.name!r} of {token.user.username})."))
