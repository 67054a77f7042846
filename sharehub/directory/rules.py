"""How mapping rules match what a directory says of a person (pure: no database)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

_DN_SPACES = re.compile(r"\s*([,=+])\s*")


@dataclass(frozen=True)
class Identity:
    """What a directory says of one person, whatever the directory: an LDAP entry or OpenID Connect claims."""

    source: str  # DirectoryAccount.Source
    external_id: str  # the login name (LDAP) or the subject (OpenID Connect)
    username: str
    display_name: str = ""
    email: str = ""
    dn: str = ""
    groups: tuple[str, ...] = ()
    attributes: dict[str, list[str]] = field(default_factory=dict)  # lower-case names -> values


def normalized(value: str) -> str:
    """Groups and values compare without case, and DNs without the spaces around their commas and equals
    signs: `CN=Tax Stewards, OU=Groups,DC=example` names the same group as `cn=tax stewards,ou=groups,dc=example`."""
    return _DN_SPACES.sub(r"\1", (value or "").strip()).casefold()


def matches(rule, groups: Iterable[str], attributes: dict[str, list[str]]) -> bool:
    """Whether a rule (anything with kind, attribute and value) matches these groups and attributes."""
    wanted = normalized(rule.value)
    if not wanted:
        return False
    if rule.kind == "group":
        return any(normalized(group) == wanted for group in groups)
    values = attributes.get((rule.attribute or "").strip().lower(), [])
    return any(normalized(value) == wanted for value in values)


def evaluate(rules, groups: Iterable[str], attributes: dict[str, list[str]]) -> dict[int, str]:
    """The department ids and roles the rules give: in the rules' order, the first match for a department
    decides its role."""
    groups = list(groups)
    given: dict[int, str] = {}
    for rule in rules:
        if rule.department_id not in given and matches(rule, groups, attributes):
            given[rule.department_id] = rule.role
    return given
