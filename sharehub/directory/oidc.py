"""OpenID Connect sign-in with Authlib: authorization code flow with PKCE (S256), state and nonce checked,
the ID token's signature checked against the provider's published keys, the provider's endpoints read from
its discovery document."""

from __future__ import annotations

from authlib.integrations.django_client import OAuth

from sharehub.directory.conf import OidcSettings
from sharehub.directory.models import DirectoryAccount
from sharehub.directory.rules import Identity

TIMEOUT_SECONDS = 10
ID_TOKEN_KEY = "sharehub_oidc_id_token"  # kept in the session for RP-initiated logout
NEXT_KEY = "sharehub_oidc_next"

_apps: dict = {}


def client(cfg: OidcSettings):
    """Authlib's client for the configured provider (one per process; its discovery document is read on
    first use and kept)."""
    app = _apps.get(cfg)
    if app is None:
        client_kwargs = {"scope": cfg.scopes, "code_challenge_method": "S256", "default_timeout": TIMEOUT_SECONDS}
        if not cfg.client_secret:
            client_kwargs["token_endpoint_auth_method"] = "none"  # a public client: PKCE alone proves it
        app = OAuth().register(
            "sharehub",
            client_id=cfg.client_id,
            client_secret=cfg.client_secret or None,
            server_metadata_url=cfg.discovery_url,
            client_kwargs=client_kwargs,
        )
        _apps[cfg] = app
    return app


def _strings(value) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list | tuple) else [value]
    return [str(item).strip() for item in items if isinstance(item, str | int | float) and str(item).strip()]


def identity(cfg: OidcSettings, claims: dict) -> Identity:
    """The person the provider's claims describe; their groups from the groups claim, every claim of plain
    values usable as an attribute by the mapping rules."""
    username = next(iter(_strings(claims.get(cfg.username_claim))), "")
    return Identity(
        source=DirectoryAccount.Source.OIDC,
        external_id=str(claims.get("sub") or ""),
        username=username,
        display_name=next(iter(_strings(claims.get(cfg.name_claim))), ""),
        email=next(iter(_strings(claims.get(cfg.email_claim))), ""),
        groups=tuple(_strings(claims.get(cfg.groups_claim))),
        attributes={
            str(name).lower(): values for name, value in claims.items() if (values := _strings(value)) and name != "sub"
        },
    )
