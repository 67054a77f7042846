"""Directory sign-in settings read from the environment (README "Directory sign-in").

Pure functions over `sharehub.config`, called by `sharehub.settings`: LDAP / Active Directory is on when
SHAREHUB_LDAP_URL is set, OpenID Connect when SHAREHUB_OIDC_ISSUER is set.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sharehub import config
from sharehub.config import ConfigError

DISCOVERY_PATH = "/.well-known/openid-configuration"


@dataclass(frozen=True)
class LdapSettings:
    url: str
    bind_dn: str = ""
    bind_password: str = ""
    start_tls: bool = False
    ca_file: str = ""
    user_base: str = ""
    user_filter: str = "(uid=%(user)s)"
    group_base: str = ""  # empty: the groups are read from the person's memberOf attribute (Active Directory)
    group_filter: str = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames)(objectClass=group))"
    group_member_attr: str = "member"
    username_attr: str = "uid"
    name_attr: str = "cn"
    email_attr: str = "mail"
    page_size: int = 500
    timeout: int = 10

    @property
    def all_users_filter(self) -> str:
        """The user filter with the name left open: every person the sync reads."""
        return self.user_filter.replace("%(user)s", "*")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str = ""
    scopes: str = "openid profile email"
    username_claim: str = "preferred_username"
    name_claim: str = "name"
    email_claim: str = "email"
    groups_claim: str = "groups"
    label: str = "OpenID Connect"
    logout: bool = True  # RP-initiated logout at the provider, when its discovery names an end_session_endpoint

    @property
    def origin(self) -> str:
        parts = urlsplit(self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def discovery_url(self) -> str:
        if self.issuer.endswith(DISCOVERY_PATH):
            return self.issuer
        return self.issuer.rstrip("/") + DISCOVERY_PATH


def _url(name: str, schemes: tuple[str, ...], example: str) -> str:
    value = config.env_str(name, "")
    if not value:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in schemes or not parts.hostname:
        raise ConfigError(f"{name} must look like {example}, not {value!r}")
    return value


def ldap() -> LdapSettings | None:
    url = _url("SHAREHUB_LDAP_URL", ("ldap", "ldaps"), "ldap://dc1.example.org or ldaps://dc1.example.org:636")
    if not url:
        return None
    user_base = config.env_str("SHAREHUB_LDAP_USER_BASE", "")
    if not user_base:
        raise ConfigError("SHAREHUB_LDAP_USER_BASE must name where people are, e.g. ou=people,dc=example,dc=org")
    defaults = LdapSettings(url=url)
    user_filter = config.env_str("SHAREHUB_LDAP_USER_FILTER", defaults.user_filter)
    if "%(user)s" not in user_filter or not (user_filter.startswith("(") and user_filter.endswith(")")):
        raise ConfigError(
            "SHAREHUB_LDAP_USER_FILTER must be an LDAP filter with %(user)s where the login name goes, "
            f"e.g. (sAMAccountName=%(user)s), not {user_filter!r}"
        )
    page_size = config.env_int("SHAREHUB_LDAP_PAGE_SIZE", defaults.page_size)
    timeout = config.env_int("SHAREHUB_LDAP_TIMEOUT", defaults.timeout)
    if not 1 <= page_size <= 10_000:
        raise ConfigError("SHAREHUB_LDAP_PAGE_SIZE must be from 1 to 10000")
    if not 1 <= timeout <= 300:
        raise ConfigError("SHAREHUB_LDAP_TIMEOUT must be from 1 to 300 seconds")
    return LdapSettings(
        url=url,
        bind_dn=config.env_str("SHAREHUB_LDAP_BIND_DN", ""),
        bind_password=config.env_str("SHAREHUB_LDAP_BIND_PASSWORD", ""),
        start_tls=config.env_bool("SHAREHUB_LDAP_STARTTLS", False),
        ca_file=config.env_str("SHAREHUB_LDAP_CA_FILE", ""),
        user_base=user_base,
        user_filter=user_filter,
        group_base=config.env_str("SHAREHUB_LDAP_GROUP_BASE", ""),
        group_filter=config.env_str("SHAREHUB_LDAP_GROUP_FILTER", defaults.group_filter),
        group_member_attr=config.env_str("SHAREHUB_LDAP_GROUP_MEMBER_ATTR", defaults.group_member_attr),
        username_attr=config.env_str("SHAREHUB_LDAP_ATTR_USERNAME", defaults.username_attr),
        name_attr=config.env_str("SHAREHUB_LDAP_ATTR_NAME", defaults.name_attr),
        email_attr=config.env_str("SHAREHUB_LDAP_ATTR_EMAIL", defaults.email_attr),
        page_size=page_size,
        timeout=timeout,
    )


def oidc() -> OidcSettings | None:
    issuer = _url("SHAREHUB_OIDC_ISSUER", ("https", "http"), "https://sso.example.org/realms/main")
    if not issuer:
        return None
    client_id = config.env_str("SHAREHUB_OIDC_CLIENT_ID", "")
    if not client_id:
        raise ConfigError("SHAREHUB_OIDC_CLIENT_ID must be set when SHAREHUB_OIDC_ISSUER is")
    defaults = OidcSettings(issuer=issuer, client_id=client_id)
    scopes = config.env_str("SHAREHUB_OIDC_SCOPES", defaults.scopes)
    if "openid" not in scopes.split():
        raise ConfigError(f"SHAREHUB_OIDC_SCOPES must include openid, not {scopes!r}")
    return OidcSettings(
        issuer=issuer,
        client_id=client_id,
        client_secret=config.env_str("SHAREHUB_OIDC_CLIENT_SECRET", ""),
        scopes=scopes,
        username_claim=config.env_str("SHAREHUB_OIDC_CLAIM_USERNAME", defaults.username_claim),
        name_claim=config.env_str("SHAREHUB_OIDC_CLAIM_NAME", defaults.name_claim),
        email_claim=config.env_str("SHAREHUB_OIDC_CLAIM_EMAIL", defaults.email_claim),
        groups_claim=config.env_str("SHAREHUB_OIDC_CLAIM_GROUPS", defaults.groups_claim),
        label=config.env_str("SHAREHUB_OIDC_LABEL", defaults.label),
        logout=config.env_bool("SHAREHUB_OIDC_LOGOUT", True),
    )
