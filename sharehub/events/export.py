"""Exporting a range of the event chain as a signed file an auditor checks offline (format: `exportfile`).

The signing key is an Ed25519 key made from a secret in the data directory (`keys/audit-signing-key`, 0600,
made on first use) or from SHAREHUB_AUDIT_SIGNING_KEY; never from the database (invariant 6). Its public
half and fingerprint are in every export and on the audit page, so a verifier can tell the organization's
key from another.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from sharehub import config
from sharehub.errors import Invalid
from sharehub.events import exportfile
from sharehub.events.models import ChainHead, Event

KEY_NAME = "audit-signing-key"
KEY_ENV = "SHAREHUB_AUDIT_SIGNING_KEY"
CHUNK = 2000


def signing_key():
    return exportfile.private_key_from_seed(config.secret(KEY_NAME, KEY_ENV, 32).encode("utf-8"))


def key_info() -> dict:
    """The public key (base64) and its fingerprint, for the audit page and `sharehub audit key`."""
    return exportfile.signing_key_info(signing_key())


@dataclass(frozen=True)
class Range:
    first_seq: int
    last_seq: int
    start_hash: str
    end_hash: str
    asked: dict

    @property
    def count(self) -> int:
        return self.last_seq - self.first_seq + 1


def _head_seq() -> int:
    head = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first()
    return head or 0


def resolve_range(
    *,
    from_seq: int | None = None,
    to_seq: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Range:
    """The contiguous entries to export: those from `from_seq` to `to_seq` (the whole chain by default),
    narrowed to the first entry written at or after `since` and the last written before `until`. Every
    entry between the two ends is exported, so the range has no holes."""
    errors: dict[str, str] = {}
    head = _head_seq()
    if head == 0:
        message = _("The audit trail is empty; there is nothing to export.")
        raise Invalid(message, fields={"from_seq": message})
    if from_seq is not None and not 1 <= from_seq <= head:
        errors["from_seq"] = _("Choose an entry from #1 to #%(head)s.") % {"head": head}
    if to_seq is not None and not 1 <= to_seq <= head:
        errors["to_seq"] = _("Choose an entry from #1 to #%(head)s.") % {"head": head}
    if from_seq is not None and to_seq is not None and to_seq < from_seq and not errors:
        errors["to_seq"] = _("The last entry comes before the first.")
    if since is not None and until is not None and until <= since:
        errors["until"] = _("The end date is before the start date.")
    if errors:
        raise Invalid(fields=errors)
    first, last = from_seq or 1, to_seq or head
    if since is not None or until is not None:
        dated = Event.objects.filter(seq__gte=first, seq__lte=last)
        if since is not None:
            dated = dated.filter(created_at__gte=since)
        if until is not None:
            dated = dated.filter(created_at__lt=until)
        ends = dated.order_by("seq").values_list("seq", flat=True)
        first_found, last_found = ends.first(), ends.last()
        if first_found is None:
            message = _("No entry was written in this period.")
            raise Invalid(message, fields={"since": message})
        first, last = first_found, last_found
    rows = dict(Event.objects.filter(seq__in=[first, last]).values_list("seq", "prev_hash"))
    if first not in rows or last not in rows:
        message = _("Entries of this range are missing; run the chain check.")
        raise Invalid(message, fields={"from_seq": message})
    last_hash = Event.objects.filter(seq=last).values_list("hash", flat=True).get()
    asked = {
        "from_seq": from_seq,
        "to_seq": to_seq,
        "since": exportfile.moment(since) if since else None,
        "until": exportfile.moment(until) if until else None,
    }
    return Range(first, last, rows[first], last_hash, asked)


def _entries(span: Range):
    """The entries of the range, in order, with every field their hash is made of."""
    start = span.first_seq
    while start <= span.last_seq:
        end = min(start + CHUNK - 1, span.last_seq)
        events = Event.objects.filter(seq__gte=start, seq__lte=end).order_by("seq").prefetch_related("departments")
        for event in events:
            yield {
                "seq": event.seq,
                "created_at": exportfile.moment(event.created_at),
                "actor_id": event.actor_id,
                "actor_name": event.actor_name,
                "action": event.action,
                "target_type": event.target_type,
                "target_id": event.target_id,
                "target_label": event.target_label,
                "departments": sorted(d.pk for d in event.departments.all()),
                "details": event.details,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
        start = end + 1


def export_lines(span: Range, exported_by: str = ""):
    """The export's lines (bytes), streamed: the header, the entries and the signature."""
    header = {
        "first_seq": span.first_seq,
        "last_seq": span.last_seq,
        "count": span.count,
        "start_hash": span.start_hash,
        "end_hash": span.end_hash,
        "exported_at": exportfile.moment(timezone.now()),
        "exported_by": exported_by,
        "asked": span.asked,
    }
    return exportfile.write(header, _entries(span), signing_key())
