"""Datasets that carry records: the schema of each dataset, its records and their numbered changes,
imports, consents of data subjects and corrections of values.

Values of sensitive and secret fields are stored as AES-GCM tokens (see `exchange.crypto`); lookups
on them and on identifier fields go through HMAC digests (`BlindIndex`), never through plaintext."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sharehub.exchange.masking import MaskRule
from sharehub.exchange.types import FieldType


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("public")
    INTERNAL = "internal", _("internal")
    SENSITIVE = "sensitive", _("sensitive")
    SECRET = "secret", _("secret")


ENCRYPTED_LEVELS = (Sensitivity.SENSITIVE, Sensitivity.SECRET)


class Dataset(models.Model):
    """The record side of a catalog entry of kind dataset. Its row is locked by every write to the
    dataset's records, which numbers the changes without gaps and keeps two imports from interleaving."""

    resource = models.OneToOneField(
        "catalog.Resource",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="dataset",
        verbose_name=_("resource"),
    )
    schema_version = models.PositiveIntegerField(_("schema version"), default=1)
    key_fields = models.JSONField(_("record key"), default=list, blank=True)
    consent_required = models.BooleanField(_("consent of the data subject required"), default=False)
    subject_field = models.CharField(_("subject field"), max_length=64, blank=True)
    last_change = models.BigIntegerField(_("last change"), default=0)
    record_count = models.BigIntegerField(_("records"), default=0)
    records_updated_at = models.DateTimeField(_("records updated"), null=True, blank=True)

    class Meta:
        verbose_name = _("dataset")
        verbose_name_plural = _("datasets")

    def __str__(self) -> str:
        return str(self.resource_id)


class DatasetField(models.Model):
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="fields", verbose_name=_("dataset"))
    position = models.PositiveSmallIntegerField(_("position"))
    name = models.CharField(_("name"), max_length=64)
    label_zh = models.CharField(_("label (Chinese)"), max_length=100, blank=True)
    label_en = models.CharField(_("label (English)"), max_length=100, blank=True)
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices, default=FieldType.TEXT)
    required = models.BooleanField(_("required"), default=False)
    description = models.CharField(_("description"), max_length=300, blank=True)
    sensitivity = models.CharField(
        _("sensitivity"), max_length=10, choices=Sensitivity.choices, default=Sensitivity.INTERNAL
    )
    masking = models.CharField(_("masking rule"), max_length=10, choices=MaskRule.choices, default=MaskRule.NONE)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    source = models.ForeignKey(
        "catalog.Resource",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("authoritative dataset"),
    )
    source_field = models.CharField(_("field in the authoritative dataset"), max_length=64, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="unique_field_name_per_dataset")]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self) -> str:
        return self.name

    @property
    def encrypted(self) -> bool:
        return self.sensitivity in ENCRYPTED_LEVELS


class SchemaVersion(models.Model):
    """The field list as it was after each change of the schema."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    fields = models.JSONField()
    key_fields = models.JSONField(default=list)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("author")
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="unique_schema_version")]
        verbose_name = _("schema version")
        verbose_name_plural = _("schema versions")

    def __str__(self) -> str:
        return f"{self.dataset_id} schema v{self.number}"


class Record(models.Model):
    """One row of a dataset. `key` is the HMAC digest of the record key's values (bound to the dataset),
        so a key made of encrypted fields is looked up without its plaintext. `values` maps field names to
        plain values, or to AES-GCM tokens for sensitive and secret fields. `subject` is the digest of the
    data subject's identifier in a consent dataset."""

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="records")
    key = models.CharField(max_length=64)
    values = models.JSONField(default=dict)
    fingerprint = models.CharField(max_length=64)  # HMAC of the plaintext values: an unchanged row is skipped
    subject = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "key"], name="unique_record_key")]
        indexes = [models.Index(fields=["dataset", "subject"], name="record_subject", condition=~Q(subject=""))]
        verbose_name = _("record")
        verbose_name_plural = _("records")

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.key[:12]}"


class BlindIndex(models.Model):
    """HMAC digests of the values of encrypted and identifier fields: equality lookups on encrypted
    fields, and finding the same people or companies in the datasets of other departments. The digest
    depends on the field's type and value only, not on the dataset."""

    record = models.ForeignKey(Record, on_delete=models.CASCADE, related_name="digests")
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="+")
    field = models.CharField(max_length=64)
    digest = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["record", "field"], name="one_digest_per_record_field")]
        indexes = [
            models.Index(fields=["dataset", "field", "digest"], name="blind_lookup"),
            models.Index(fields=["digest"], name="blind_digest"),
        ]

    def __str__(self) -> str:
        return f"{self.field}={self.digest[:12]}"


class Change(models.Model):
    """A numbered insert, update or delete of a record, as the change feed serves it. `values` is the
    whole record after the change (stored as the record stores it), empty for a delete."""

    class Op(models.TextChoices):
        INSERT = "insert", _("insert")
        UPDATE = "update", _("update")
        DELETE = "delete", _("delete")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="changes")
    seq = models.BigIntegerField()
    op = models.CharField(max_length=6, choices=Op.choices)
    key = models.CharField(max_length=64)
    values = models.JSONField(default=dict)
    subject = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["seq"]
        constraints = [models.UniqueConstraint(fields=["dataset", "seq"], name="unique_change_seq")]
        verbose_name = _("change")
        verbose_name_plural = _("changes")

    def __str__(self) -> str:
        return f"{self.dataset_id}#{self.seq} {self.op}"


class ImportJob(models.Model):
    """An upload on its way into a dataset: the file (kept encrypted under the data directory until the
    import is applied or dropped, since it holds the plaintext of sensitive fields), the column mapping,
    and what checking it found. Error reports leave out the values of encrypted fields."""

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("uploaded")
        CHECKED = "checked", _("checked")
        APPLIED = "applied", _("applied")
        FAILED = "failed", _("failed")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all", _("all or nothing")
        KEEP_VALID = "valid", _("keep the valid rows")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="imports")
    upload = models.CharField(max_length=100, blank=True)  # file name under <data dir>/imports, "" once dropped
    filename = models.CharField(_("file name"), max_length=255)
    mapping = models.JSONField(_("column mapping"), default=dict, blank=True)
    mode = models.CharField(_("mode"), max_length=5, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.UPLOADED)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)
    applied_at = models.DateTimeField(_("applied"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.filename


class Consent(models.Model):
    """A data subject's permission for a department to see their records for a purpose and a period,
    after FHIR Consent (provision type permit, actor, purpose, period). Withdrawn consents are kept."""

    class Purpose(models.TextChoices):
        # HL7 v3 PurposeOfUse codes, as FHIR Consent names them
        TREAT = "TREAT", _("treatment")
        ETREAT = "ETREAT", _("emergency treatment")
        HPAYMT = "HPAYMT", _("healthcare payment")
        HRESCH = "HRESCH", _("healthcare research")
        PUBHLTH = "PUBHLTH", _("public health")
        HOPERAT = "HOPERAT", _("healthcare operations")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="consents")
    subject = models.CharField(max_length=64)
    subject_hint = models.CharField(_("subject"), max_length=64, blank=True)
    grantee_department = models.ForeignKey(
        "org.Department", on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    purpose = models.CharField(_("purpose"), max_length=8, choices=Purpose.choices)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    withdrawn_at = models.DateTimeField(_("withdrawn"), null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="consent_period_positive")
        ]
        indexes = [models.Index(fields=["dataset", "grantee_department", "subject"], name="consent_lookup")]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"{self.subject_hint} → {self.grantee_department_id} ({self.purpose})"


class Correction(models.Model):
    """疑义校核: a reader disputes a value; the owner's steward accepts (which corrects the value) or
    rejects it with a reason, by a working-day deadline."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", _("rejected")

    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="corrections")
    record_key = models.CharField(max_length=64)
    field = models.CharField(_("field"), max_length=64)
    proposed = models.TextField(_("proposed value"), blank=True)  # a token when the field is encrypted
    evidence = models.TextField(_("evidence"))
    evidence_blob = models.ForeignKey("catalog.Blob", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    evidence_filename = models.CharField(max_length=255, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("reported by")
    )
    reporter_department = models.ForeignKey(
        "org.Department", null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("department")
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.OPEN)
    due_at = models.DateTimeField(_("decide by"))
    reason = models.TextField(_("reason"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("decided by")
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    reminded_at = models.DateTimeField(null=True, blank=True)  # the deciders were told the deadline is near
    escalated_at = models.DateTimeField(null=True, blank=True)  # the heads were told it passed
    created_at = models.DateTimeField(_("reported"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dataset", "status"], name="correction_queue")]
        verbose_name = _("correction")
        verbose_name_plural = _("corrections")

    def __str__(self) -> str:
        return f"{self.dataset_id}/{self.record_key[:12]}.{self.field}"


class KeyRotation(models.Model):
    """Progress of re-encrypting stored values under the active key, so a stopped run resumes."""

    target_key = models.CharField(max_length=32)
    last_record = models.BigIntegerField(default=0)
    last_change = models.BigIntegerField(default=0)
    last_correction = models.BigIntegerField(default=0)
    rewritten = models.BigIntegerField(default=0)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("key rotation")

    def __str__(self) -> str:
        return f"→ {self.target_key}"
