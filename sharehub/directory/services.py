"""Writes of directory sign-in: the mapping rules (organization admins), the people a directory names (made
at their first sign-in or by the sync, their departments and roles set by the rules), and the sync.

Memberships change through `sharehub.org.services` (their events, the policy's caches) and a departed
person leaves through `sharehub.org.handover.leave` (grants ended, requests withdrawn, tokens revoked, as the
people console does); every change is an event, in the transaction that makes it. The directory is read
before any transaction opens (invariant 8).
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub.directory import ldap
from sharehub.directory import rules as matching
from sharehub.directory.models import DirectoryAccount, MappingRule, SyncRun
from sharehub.directory.rules import Identity
from sharehub.errors import Forbidden, Invalid, NotFound
from sharehub.events.services import record
from sharehub.org import handover
from sharehub.org import services as org
from sharehub.org.models import Department, Membership, User
from sharehub.policy.engine import OrgAction, can

logger = logging.getLogger(__name__)

ATTRIBUTE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$")
RULE_FIELDS = ("kind", "attribute", "value", "department", "role", "is_active")
MAX_ATTRIBUTES = 60  # what is kept of an identity's attributes (claims), for previews
MAX_VALUE = 500


class Refused(Exception):
    """A directory identity that cannot be a person here (the message says why, for the log and the sync)."""


class NotConfigured(Exception):
    """The sync was asked for but no LDAP directory is configured."""


def _require_admin(actor) -> None:
    """`actor=None` is the operator at the command line or the organization's own background job."""
    if actor is None:
        return
    decision = can(actor, OrgAction.MANAGE_ORG)
    if not decision:
        raise Forbidden(decision.message)


# --- mapping rules ---------------------------------------------------------------------------------------


def _department(value) -> Department | None:
    if isinstance(value, Department):
        return value
    text = str(value or "").strip()
    return Department.objects.filter(pk=int(text)).first() if text.isdigit() else None


def _clean_rule(fields: dict) -> dict:
    errors = {}
    out = dict(fields)
    if "kind" in fields and fields["kind"] not in MappingRule.Kind.values:
        errors["kind"] = _("Choose group or attribute.")
    if "value" in fields:
        out["value"] = str(fields["value"] or "").strip()
        if not out["value"] or len(out["value"]) > MAX_VALUE or "\x00" in out["value"]:
            errors["value"] = _("Give the group or the attribute's value, at most %(n)s characters.") % {"n": MAX_VALUE}
    if "attribute" in fields:
        out["attribute"] = str(fields["attribute"] or "").strip()
    if "department" in fields:
        out["department"] = _department(fields["department"])
        if out["department"] is None:
            errors["department"] = _("Choose a department.")
        elif out["department"].archived_at is not None:
            errors["department"] = _("%(dept)s is archived; choose a department in use.") % {
                "dept": out["department"].name
            }
    if "role" in fields and fields["role"] not in Membership.Role.values:
        errors["role"] = _("Choose one of: %(choices)s.") % {"choices": ", ".join(Membership.Role.values)}
    if "is_active" in fields:
        out["is_active"] = bool(fields["is_active"])
    if errors:
        raise Invalid(fields=errors)
    return out


def _check_attribute(kind: str, attribute: str) -> None:
    if kind == MappingRule.Kind.ATTRIBUTE and not ATTRIBUTE_NAME.fullmatch(attribute or ""):
        raise Invalid(
            fields={"attribute": _("Name the attribute (or claim), e.g. department; letters, digits, - _ . :")}
        )


def _rule_details(rule: MappingRule) -> dict:
    return {
        "kind": rule.kind,
        "attribute": rule.attribute,
        "value": rule.value,
        "department": rule.department_id,
        "role": rule.role,
        "is_active": rule.is_active,
        "position": rule.position,
    }


@transaction.atomic
def create_rule(
    actor,
    *,
    kind: str,
    value: str,
    department,
    role: str = Membership.Role.MEMBER,
    attribute: str = "",
    is_active: bool = True,
) -> MappingRule:
    """A new rule, placed after the existing ones."""
    _require_admin(actor)
    fields = _clean_rule(
        {
            "kind": kind,
            "attribute": attribute,
            "value": value,
            "department": department,
            "role": role,
            "is_active": is_active,
        }
    )
    if fields["kind"] == MappingRule.Kind.GROUP:
        fields["attribute"] = ""
    _check_attribute(fields["kind"], fields["attribute"])
    last = MappingRule.objects.order_by("-position").values_list("position", flat=True).first() or 0
    rule = MappingRule.objects.create(position=last + 1, **fields)
    record(actor, "directory.rule_created", rule, departments=[rule.department_id], details=_rule_details(rule))
    return rule


@transaction.atomic
def update_rule(actor, rule: MappingRule, **changes) -> MappingRule:
    _require_admin(actor)
    unknown = set(changes) - set(RULE_FIELDS)
    if unknown:
        raise Invalid(fields={name: _("Unknown field.") for name in sorted(unknown)})
    rule = MappingRule.objects.select_for_update().get(pk=rule.pk)
    fields = _clean_rule(changes)
    kind = fields.get("kind", rule.kind)
    if kind == MappingRule.Kind.GROUP:
        fields["attribute"] = ""
    _check_attribute(kind, fields.get("attribute", rule.attribute))
    changed = {name: value for name, value in fields.items() if getattr(rule, name) != value}
    if changed:
        before = rule.department_id
        for name, value in changed.items():
            setattr(rule, name, value)
        rule.save(update_fields=list(changed))
        details = {name: (value.pk if isinstance(value, Department) else value) for name, value in changed.items()}
        record(
            actor,
            "directory.rule_updated",
            rule,
            departments=sorted({before, rule.department_id}),
            details=details,
        )
    return rule


@transaction.atomic
def delete_rule(actor, rule: MappingRule) -> None:
    """Delete a rule. Memberships it gave stay until the person's next sign-in or the next sync."""
    _require_admin(actor)
    details = _rule_details(rule)
    deleted, _count = MappingRule.objects.filter(pk=rule.pk).delete()
    if not deleted:
        raise NotFound()
    record(
        actor,
        "directory.rule_deleted",
        ("directory.mappingrule", rule.pk, str(rule)),
        departments=[rule.department_id],
        details=details,
    )


@transaction.atomic
def move_rule(actor, rule: MappingRule, direction: str) -> MappingRule:
    """Move a rule one place up (earlier: it decides first) or down."""
    _require_admin(actor)
    if direction not in ("up", "down"):
        raise Invalid(fields={"direction": _("Move up or down.")})
    ordered = list(MappingRule.objects.select_for_update().order_by("position", "pk"))
    index = next((n for n, r in enumerate(ordered) if r.pk == rule.pk), None)
    if index is None:
        raise NotFound()
    other = index - 1 if direction == "up" else index + 1
    if not 0 <= other < len(ordered):
        return ordered[index]
    ordered[index], ordered[other] = ordered[other], ordered[index]
    for position, item in enumerate(ordered, start=1):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position"])
    moved = ordered[other]
    record(
        actor,
        "directory.rule_moved",
        moved,
        departments=[moved.department_id],
        details={"position": moved.position, "direction": direction},
    )
    return moved


def active_rules() -> list[MappingRule]:
    return list(
        MappingRule.objects.filter(is_active=True, department__archived_at__isnull=True).order_by("position", "pk")
    )


def rule_attributes(rules=None) -> list[str]:
    """The attributes the active rules read (asked of the LDAP directory along with the person's names)."""
    rules = active_rules() if rules is None else rules
    return sorted({r.attribute for r in rules if r.kind == MappingRule.Kind.ATTRIBUTE and r.attribute})


# --- people from a directory -----------------------------------------------------------------------------


def identity_from_ldap(person: ldap.DirectoryPerson) -> Identity:
    return Identity(
        source=DirectoryAccount.Source.LDAP,
        external_id=person.username.casefold(),
        username=person.username,
        display_name=person.display_name,
        email=person.email,
        dn=person.dn,
        groups=tuple(person.groups),
        attributes=person.attributes,
    )


def _kept_attributes(attributes: dict[str, list[str]]) -> dict[str, list[str]]:
    kept = {}
    for name, values in sorted(attributes.items())[:MAX_ATTRIBUTES]:
        kept[name] = [value[:MAX_VALUE] for value in values[:20]]
    return kept


@dataclass
class Outcome:
    """What provisioning one identity did (or would do, in a dry run)."""

    user: User | None
    changes: list[str] = field(default_factory=list)
    counts: Counter = field(default_factory=Counter)


def _line(identity: Identity, text: str) -> str:
    return f"{identity.username}: {text}"


def _department_names() -> dict[int, str]:
    return dict(Department.objects.values_list("pk", "name"))


def provision(identity: Identity, *, rules=None, dry_run: bool = False, names: dict[int, str] | None = None) -> Outcome:
    """Make or update the person a directory identity names, and set their departments and roles by the rules.

    The person is found by their directory identity, else by login name (an existing local person is linked,
    except service accounts, organization admins and auditors: those stay local), else made. Their display
    name and email follow the directory. For each department the active rules give, the membership is set
    (through sharehub.org.services: event, policy caches); departments the rules gave before and give no
    longer are left. Memberships an admin set by hand, in departments no rule ever gave, are not touched.
    Refused when the identity cannot be a person here. One transaction; in a dry run nothing is written."""
    rules = active_rules() if rules is None else rules
    names = _department_names() if names is None else names
    outcome = Outcome(user=None)
    if not identity.username:
        raise Refused(_("The directory gave no login name for this person."))
    with transaction.atomic():
        account = (
            DirectoryAccount.objects.select_for_update()
            .select_related("user")
            .filter(source=identity.source, external_id=identity.external_id)
            .first()
        )
        user = account.user if account is not None else None
        if account is None:
            user = User.objects.filter(username__iexact=identity.username).first()
            if user is not None and (user.is_service or user.is_org_admin or user.is_auditor):
                raise Refused(
                    _("%(username)s is a local service account, admin or auditor; it is not linked to a directory.")
                    % {"username": user.username}
                )
            if user is None:
                outcome.counts["created"] += 1
                outcome.changes.append(_line(identity, _("new person")))
                if not dry_run:
                    try:
                        user = org.create_person(
                            None,
                            username=identity.username,
                            display_name=identity.display_name[:120],
                            email=identity.email if _valid_email(identity.email) else "",
                        )
                    except Invalid as error:
                        raise Refused("; ".join(str(v) for v in error.fields.values())) from None
            else:
                outcome.counts["linked"] += 1
                outcome.changes.append(_line(identity, _("linked to the existing person")))
            if not dry_run:
                account = DirectoryAccount.objects.create(
                    user=user, source=identity.source, external_id=identity.external_id, dn=identity.dn[:1000]
                )
                record(
                    None,
                    "directory.account_linked",
                    user,
                    details={"source": identity.source, "external_id": identity.external_id[:500]},
                )
        outcome.user = user
        if user is not None:
            _update_profile(identity, account, user, outcome, dry_run)
        desired = matching.evaluate(rules, identity.groups, identity.attributes)
        _update_memberships(identity, account, user, desired, outcome, dry_run, names)
        if account is not None and not dry_run:
            account.dn = identity.dn[:1000]
            account.groups = list(identity.groups)[:500]
            account.attributes = _kept_attributes(identity.attributes)
            account.granted = sorted([department_id, role] for department_id, role in desired.items())
            account.seen_at = timezone.now()
            account.deactivated_by_sync = False
            account.save(update_fields=["dn", "groups", "attributes", "granted", "seen_at", "deactivated_by_sync"])
    return outcome


def _valid_email(value: str) -> bool:
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    try:
        validate_email(value)
    except ValidationError:
        return False
    return bool(value)


def _update_profile(identity: Identity, account, user: User, outcome: Outcome, dry_run: bool) -> None:
    changes = {}
    if identity.display_name and user.display_name != identity.display_name[:120]:
        changes["display_name"] = identity.display_name[:120]
    if identity.email and user.email != identity.email and _valid_email(identity.email):
        changes["email"] = identity.email
    if account is not None and account.deactivated_by_sync and not user.is_active:
        changes["is_active"] = True
        outcome.counts["reactivated"] += 1
        outcome.changes.append(_line(identity, _("back in the directory: reactivated")))
    if not changes:
        return
    if set(changes) - {"is_active"}:
        outcome.counts["updated"] += 1
        outcome.changes.append(_line(identity, _("profile: %(fields)s") % {"fields": ", ".join(sorted(changes))}))
    if not dry_run:
        org.update_person(None, user, **changes)


def _update_memberships(
    identity: Identity, account, user, desired: dict[int, str], outcome: Outcome, dry_run: bool, names: dict
) -> None:
    current = dict(Membership.objects.filter(user=user).values_list("department_id", "role")) if user else {}
    previous = {department_id for department_id, _role in (account.granted if account is not None else [])}
    others = set()
    if account is not None and previous - set(desired):
        for granted in (
            DirectoryAccount.objects.filter(user=user).exclude(pk=account.pk).values_list("granted", flat=True)
        ):
            others.update(department_id for department_id, _role in granted)
    roles = dict(Membership.Role.choices)
    for department_id, role in desired.items():
        if current.get(department_id) == role:
            continue
        outcome.counts["memberships_set"] += 1
        outcome.changes.append(
            _line(
                identity,
                _("%(department)s as %(role)s")
                % {"department": names.get(department_id, department_id), "role": roles.get(role, role)},
            )
        )
        if not dry_run:
            department = Department.objects.get(pk=department_id)
            org.set_membership(None, user, department, role)
    for department_id in sorted(previous - set(desired) - others):
        if department_id not in current:
            continue
        outcome.counts["memberships_removed"] += 1
        outcome.changes.append(
            _line(identity, _("leaves %(department)s") % {"department": names.get(department_id, department_id)})
        )
        if not dry_run:
            org.remove_membership(None, user, Department.objects.get(pk=department_id))


def retire(account: DirectoryAccount, *, dry_run: bool = False) -> Outcome:
    """A person no longer in the directory leaves as the people console's handover has anyone leave
    (sharehub.org.handover.leave): deactivated, the grants they hold in their own name end (each revoked with
    the reason, each its own event), their own open requests are withdrawn and their API tokens revoked. Grants
    to their departments simply stop counting for them: the policy reads nothing for a deactivated person. Their
    memberships are kept for the record and for their return (the sync reactivates them if the directory lists
    them again); what they steward waits for an admin to hand it over."""
    user = account.user
    outcome = Outcome(user=user)
    reason = _("%(name)s left the directory (LDAP sync); their grants end with their account.") % {"name": user}
    with transaction.atomic():
        ended = handover.leave(None, user, reason=reason, dry_run=dry_run)["grants"]
        outcome.counts["deactivated"] += 1
        outcome.counts["grants_ended"] += ended
        outcome.changes.append(
            f"{user.username}: " + _("not in the directory: deactivated, %(n)s grants end") % {"n": ended}
        )
        if not dry_run:
            DirectoryAccount.objects.filter(pk=account.pk).update(deactivated_by_sync=True)
            record(
                None,
                "directory.person_left",
                user,
                details={"source": account.source, "grants_ended": ended},
            )
    return outcome


# --- the sync --------------------------------------------------------------------------------------------


@dataclass
class SyncReport:
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    changes: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.counts.update(outcome.counts)
        self.changes.extend(outcome.changes)


def sync(*, dry_run: bool = False, progress=None) -> SyncReport:
    """Read the whole LDAP directory (page by page) and bring Sharehub in line: people found are made or
    updated and their departments set by the rules; people from the directory it no longer lists are
    deactivated (their own grants end). A dry run reports the same changes and writes nothing.

    Raises NotConfigured without SHAREHUB_LDAP_URL, ldap.DirectoryUnavailable when the directory cannot be
    read (then nothing changed). A directory that lists nobody while people came from it is taken as a
    wrong search, not as everyone leaving: nothing is changed."""
    cfg = settings.DIRECTORY_LDAP
    if cfg is None:
        raise NotConfigured("no LDAP directory is configured (set SHAREHUB_LDAP_URL and the other SHAREHUB_LDAP_*)")
    run = None if dry_run else SyncRun.objects.create(started_at=timezone.now())
    report = SyncReport(dry_run=dry_run)
    try:
        rules = active_rules()
        people = ldap.everyone(cfg, rule_attributes(rules))
        linked = DirectoryAccount.objects.filter(source=DirectoryAccount.Source.LDAP, user__is_active=True)
        if not people and linked.exists():
            raise ldap.DirectoryUnavailable(
                f"the directory listed nobody under {cfg.user_base!r} with {cfg.all_users_filter}, while "
                f"{linked.count()} active people came from it; nothing was changed (check the search settings)"
            )
        names = _department_names()
        seen = set()
        for person in progress(people) if progress else people:
            identity = identity_from_ldap(person)
            seen.add(identity.external_id)
            try:
                report.add(provision(identity, rules=rules, dry_run=dry_run, names=names))
            except Refused as error:
                report.counts["refused"] += 1
                report.refused.append(f"{identity.username}: {error}")
        gone = [pk for pk, external_id in linked.values_list("pk", "external_id") if external_id not in seen]
        for account in DirectoryAccount.objects.filter(pk__in=gone).select_related("user").order_by("external_id"):
            report.add(retire(account, dry_run=dry_run))
    except Exception as error:
        if run is not None:
            SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), error=str(error)[:2000])
        raise
    report.counts["people"] = len(people)
    if run is not None:
        with transaction.atomic():
            SyncRun.objects.filter(pk=run.pk).update(finished_at=timezone.now(), counts=dict(report.counts))
            record(
                None,
                "directory.synced",
                ("directory.syncrun", run.pk, f"LDAP sync {run.pk}"),
                details={key: report.counts[key] for key in sorted(report.counts)},
            )
    return report


def scheduled_sync(now=None) -> object:
    """The periodic job: a sync when SHAREHUB_DIRECTORY_SYNC_MINUTES have passed since the last one began."""
    minutes = settings.DIRECTORY_SYNC_MINUTES
    if settings.DIRECTORY_LDAP is None or minutes <= 0:
        return "off"
    now = now or timezone.now()
    last = SyncRun.objects.filter(dry_run=False).order_by("-started_at").values_list("started_at", flat=True).first()
    if last is not None and now - last < timedelta(minutes=minutes):
        return "not due"
    try:
        return dict(sync().counts)
    except ldap.DirectoryUnavailable as error:
        logger.warning("directory sync failed: %s", error)
        return "failed"
