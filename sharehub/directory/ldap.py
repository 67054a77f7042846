"""Reading an LDAP directory or Active Directory with ldap3 (pure Python): find a person by login name,
check their password with a bind as them, read their groups, and list everyone page by page for the sync.

No database access here: callers decide what to do with what the directory says.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import ldap3
from ldap3.core import exceptions as ldap_errors
from ldap3.utils.conv import escape_filter_chars

from sharehub.directory.conf import LdapSettings

MEMBER_OF = "memberof"


class DirectoryUnavailable(Exception):
    """The directory cannot be reached or refused Sharehub's own bind; the message says which, for the log and
    for the operator (people signing in see a general sentence)."""


@dataclass
class DirectoryPerson:
    """What the directory says of one person."""

    username: str
    dn: str
    display_name: str = ""
    email: str = ""
    groups: list[str] = field(default_factory=list)
    attributes: dict[str, list[str]] = field(default_factory=dict)  # lower-case names -> values


def _values(raw) -> list[str]:
    if raw is None:
        return []
    items = raw if isinstance(raw, list | tuple) else [raw]
    out = []
    for item in items:
        if isinstance(item, bytes):
            item = item.decode("utf-8", "replace")
        text = str(item).strip()
        if text:
            out.append(text)
    return out


def _server(cfg: LdapSettings) -> ldap3.Server:
    tls = None
    if cfg.url.startswith("ldaps://") or cfg.start_tls:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=cfg.ca_file or None)
    return ldap3.Server(cfg.url, connect_timeout=cfg.timeout, get_info=ldap3.NONE, tls=tls)


def _connect(cfg: LdapSettings, user: str | None, password: str | None) -> ldap3.Connection:
    """A bound connection; LDAPBindError for refused credentials, DirectoryUnavailable when unreachable."""
    connection = ldap3.Connection(
        _server(cfg),
        user=user or None,
        password=password or None,
        receive_timeout=cfg.timeout,
        read_only=True,
        raise_exceptions=False,
        auto_referrals=False,
    )
    try:
        connection.open()
        if cfg.start_tls:
            connection.start_tls()
        if not connection.bind():
            raise ldap_errors.LDAPBindError(connection.result.get("description") or "bind refused")
    except ldap_errors.LDAPBindError:
        connection.unbind()
        raise
    except (ldap_errors.LDAPException, OSError, ssl.SSLError) as error:
        connection.unbind()
        raise DirectoryUnavailable(f"the directory at {cfg.url} cannot be reached: {error}") from None
    return connection


def service_connection(cfg: LdapSettings) -> ldap3.Connection:
    """Bound as Sharehub's own account (SHAREHUB_LDAP_BIND_DN), or anonymously when none is set."""
    try:
        return _connect(cfg, cfg.bind_dn, cfg.bind_password)
    except ldap_errors.LDAPBindError as error:
        raise DirectoryUnavailable(
            f"the directory at {cfg.url} refused SHAREHUB_LDAP_BIND_DN {cfg.bind_dn!r}: {error}"
        ) from None


def _search(
    connection: ldap3.Connection, base: str, query: str, attributes: list[str], page_size: int
) -> Iterator[dict]:
    """Every entry found, page by page (the paged results control, RFC 2696)."""
    try:
        entries = connection.extend.standard.paged_search(
            base, query, search_scope=ldap3.SUBTREE, attributes=attributes, paged_size=page_size, generator=True
        )
        for entry in entries:
            if entry.get("type") == "searchResEntry":
                yield entry
    except ldap_errors.LDAPException as error:
        raise DirectoryUnavailable(f"searching {base!r} for {query} failed: {error}") from None
    result = connection.result or {}
    if result.get("result") not in (0, None):
        raise DirectoryUnavailable(
            f"searching {base!r} for {query} failed: {result.get('description')} {result.get('message', '')}".strip()
        )


def _attribute_names(cfg: LdapSettings, extra: Iterable[str]) -> list[str]:
    names = {cfg.username_attr, cfg.name_attr, cfg.email_attr, *extra}
    if not cfg.group_base:
        names.add("memberOf")
    return sorted(n for n in names if n)


def _person(cfg: LdapSettings, entry: dict) -> DirectoryPerson | None:
    attributes = {name.lower(): _values(value) for name, value in (entry.get("attributes") or {}).items()}
    username = next(iter(attributes.get(cfg.username_attr.lower(), [])), "")
    if not username:
        return None
    return DirectoryPerson(
        username=username,
        dn=entry["dn"],
        display_name=next(iter(attributes.get(cfg.name_attr.lower(), [])), ""),
        email=next(iter(attributes.get(cfg.email_attr.lower(), [])), ""),
        groups=attributes.get(MEMBER_OF, []) if not cfg.group_base else [],
        attributes=attributes,
    )


def _groups_of(connection: ldap3.Connection, cfg: LdapSettings, dn: str) -> list[str]:
    query = f"(&{cfg.group_filter}({cfg.group_member_attr}={escape_filter_chars(dn)}))"
    return sorted(entry["dn"] for entry in _search(connection, cfg.group_base, query, [], cfg.page_size))


def find_person(cfg: LdapSettings, username: str, extra_attributes: Iterable[str] = ()) -> DirectoryPerson | None:
    """The one person whose login name is `username`, with their groups; None when there is no such one
    (or more than one: a login name must name one person)."""
    connection = service_connection(cfg)
    try:
        query = cfg.user_filter.replace("%(user)s", escape_filter_chars(username))
        found = list(_search(connection, cfg.user_base, query, _attribute_names(cfg, extra_attributes), 2))
        if len(found) != 1:
            return None
        person = _person(cfg, found[0])
        if person is not None and cfg.group_base:
            person.groups = _groups_of(connection, cfg, person.dn)
        return person
    finally:
        connection.unbind()


def check_password(cfg: LdapSettings, dn: str, password: str) -> bool:
    """Whether the directory accepts `password` for `dn` (a bind as them). An empty password is refused
    here: LDAP would take it as an anonymous bind and say yes."""
    if not password:
        return False
    try:
        connection = _connect(cfg, dn, password)
    except ldap_errors.LDAPBindError:
        return False
    connection.unbind()
    return True


def everyone(cfg: LdapSettings, extra_attributes: Iterable[str] = ()) -> list[DirectoryPerson]:
    """Every person the user filter finds under the user base, with their groups (all groups are read once,
    page by page, rather than one search per person)."""
    connection = service_connection(cfg)
    try:
        people = [
            person
            for entry in _search(
                connection,
                cfg.user_base,
                cfg.all_users_filter,
                _attribute_names(cfg, extra_attributes),
                cfg.page_size,
            )
            if (person := _person(cfg, entry)) is not None
        ]
        if cfg.group_base:
            members: dict[str, list[str]] = {}
            for group in _search(connection, cfg.group_base, cfg.group_filter, [cfg.group_member_attr], cfg.page_size):
                values = {k.lower(): v for k, v in (group.get("attributes") or {}).items()}
                for member in _values(values.get(cfg.group_member_attr.lower())):
                    members.setdefault(member.lower(), []).append(group["dn"])
            for person in people:
                person.groups = sorted(members.get(person.dn.lower(), []))
        return people
    finally:
        connection.unbind()
