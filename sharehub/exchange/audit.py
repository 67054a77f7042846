"""How data exchange's actions read on the audit page (registered with events when the app is ready)."""

from __future__ import annotations

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from sharehub.events import describe
from sharehub.exchange.models import Consent, Correction


def _schema_changed(details: dict) -> str:
    if "consent_required" in details:
        return gettext("%(actor)s changed the consent settings of %(target)s.")
    return gettext("%(actor)s changed the fields of %(target)s (schema version %(schema_version)s).")


def register() -> None:
    describe.register_area("dataset", _("Datasets"))
    describe.register(
        "dataset.records_read",
        _("Records read"),
        _("%(actor)s read %(rows)s records of %(target)s through %(via)s."),
    )
    describe.register(
        "dataset.records_changed",
        _("Records written"),
        _("%(actor)s wrote records of %(target)s through %(via)s: %(inserted)s new, %(updated)s changed."),
    )
    describe.register(
        "dataset.records_deleted",
        _("Records deleted"),
        _("%(actor)s deleted %(deleted)s records of %(target)s through %(via)s."),
    )
    describe.register("dataset.schema_changed", _("Fields changed"), _schema_changed)
    describe.register(
        "dataset.consent_recorded",
        _("Consent recorded"),
        _("%(actor)s recorded a consent on %(target)s for %(department)s: %(purpose)s."),
    )
    describe.register(
        "dataset.consent_withdrawn",
        _("Consent withdrawn"),
        _("%(actor)s withdrew a consent on %(target)s for %(department)s."),
    )
    describe.register(
        "dataset.consents_imported",
        _("Consents imported"),
        _("%(actor)s imported %(recorded)s consents into %(target)s (%(rejected)s rows rejected)."),
    )
    describe.register(
        "dataset.correction_reported",
        _("Correction reported"),
        _("%(actor)s reported a possible error in %(target)s (record %(record)s, field %(field)s)."),
    )
    describe.register(
        "dataset.correction_accepted",
        _("Correction accepted"),
        _("%(actor)s accepted a correction of %(target)s (record %(record)s, field %(field)s)."),
    )
    describe.register(
        "dataset.correction_rejected",
        _("Correction rejected"),
        _("%(actor)s rejected a correction of %(target)s: %(reason)s"),
    )
    describe.register(
        "dataset.correction_due",
        _("Correction due soon"),
        _("%(actor)s reminded the owner that a correction of %(target)s is due on %(due_at)s."),
    )
    describe.register(
        "dataset.correction_overdue",
        _("Correction overdue"),
        _("%(actor)s escalated an overdue correction of %(target)s (it was due on %(due_at)s)."),
    )

    numbers = {
        "rows": _("Rows"),
        "inserted": _("New"),
        "updated": _("Changed"),
        "unchanged": _("Unchanged"),
        "rejected": _("Rows rejected"),
        "deleted": _("Deleted"),
        "not_found": _("Keys not found"),
        "consents_total": _("Consents relied on in all"),
        "schema_version": _("Schema version"),
        "recorded": _("Recorded"),
        "change": _("Change number"),
    }
    for key, label in numbers.items():
        describe.register_detail(key, label, describe.NUMBER, actions=("dataset.",))
    describe.register_detail("changes", _("Change numbers (first, last)"), describe.LIST, actions=("dataset.",))
    describe.register_detail("masked", _("Masked fields"), describe.LIST, actions=("dataset.",))
    describe.register_detail("grants", _("Grants relied on"), describe.ref("access.grant"), actions=("dataset.",))
    describe.register_detail("consents", _("Consents relied on"), describe.LIST, actions=("dataset.",))
    describe.register_detail("added", _("Fields added"), describe.LIST, actions=("dataset.",))
    describe.register_detail("removed", _("Fields removed"), describe.LIST, actions=("dataset.",))
    describe.register_detail("changed", _("Fields changed"), describe.LIST, actions=("dataset.",))
    describe.register_detail("key_fields", _("Key fields"), describe.LIST, actions=("dataset.",))
    describe.register_detail("consent_required", _("Consent required"), describe.BOOL, actions=("dataset.",))
    describe.register_detail("subject_field", _("Subject field"), actions=("dataset.",))
    describe.register_detail("consent", _("Consent"), actions=("dataset.",))
    describe.register_detail("subject_hint", _("Subject"), actions=("dataset.",))
    describe.register_detail(
        "purpose", _("Purpose of use"), describe.CHOICE, choices=dict(Consent.Purpose.choices), actions=("dataset.",)
    )
    describe.register_detail("valid_from", _("Valid from"), describe.DATETIME, actions=("dataset.",))
    describe.register_detail("valid_until", _("Valid until"), describe.DATETIME, actions=("dataset.",))
    describe.register_detail("correction", _("Correction"), actions=("dataset.",))
    describe.register_detail("record", _("Record"), actions=("dataset.",))
    describe.register_detail("field", _("Field"), actions=("dataset.",))
    describe.register_detail(
        "status", _("Status"), describe.CHOICE, choices=dict(Correction.Status.choices), actions=("dataset.",)
    )
    describe.register_detail("due_at", _("Due"), describe.DATETIME, actions=("dataset.",))
    describe.register_detail("file", _("File attached"), describe.BOOL, actions=("dataset.",))
    describe.register_detail("amended", _("Proposed value amended"), describe.BOOL, actions=("dataset.",))
