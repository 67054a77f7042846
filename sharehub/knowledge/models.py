"""Knowledge sharing data. An article is a catalog resource of kind "article" (so it has the catalog's
sharing types, scope, versions, attachments and search) plus its place in its department's space tree.
Comments, ratings and "this helped me" attach to any resource, articles included."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from sharehub.catalog.models import Blob, Resource, Tag
from sharehub.org.models import Department


class Article(models.Model):
    class Template(models.TextChoices):
        BLANK = "blank", _("blank page")
        HOWTO = "howto", _("how-to")
        FAQ = "faq", _("FAQ")
        LESSONS = "lessons", _("lessons learned")
        MINUTES = "minutes", _("meeting notes")

    resource = models.OneToOneField(Resource, on_delete=models.CASCADE, related_name="article")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="children", verbose_name=_("parent page")
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    template = models.CharField(_("template"), max_length=10, choices=Template.choices, default=Template.BLANK)
    # Whose know-how it is, for recognition: the author, or the answerer of the answer it was made from.
    credited_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("credited to"),
    )
    from_answer = models.OneToOneField(
        "Answer",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="article",
        verbose_name=_("made from the answer"),
    )

    class Meta:
        verbose_name = _("article")
        verbose_name_plural = _("articles")
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.resource.title


class Citation(models.Model):
    """An article citing a catalog resource or dataset; the cited page lists what cites it."""

    article = models.ForeignKey(Article, on_delete=models.CASCADE, related_name="citations")
    cited = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="cited_by", verbose_name=_("cited"))
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("citation")
        verbose_name_plural = _("citations")
        constraints = [models.UniqueConstraint(fields=["article", "cited"], name="knowledge_citation_once")]

    def __str__(self) -> str:
        return f"{self.article_id} → {self.cited_id}"


class Question(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        ANSWERED = "answered", _("answered")  # an answer was accepted
        CLOSED = "closed", _("closed")

    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("details"), blank=True, help_text=_("Markdown"))
    asker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("asked by")
    )
    asker_department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("asking department"),
    )
    # Addressed to one of: a department, a tag (those who hold resources with it), a resource's steward.
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="questions",
        verbose_name=_("asked of department"),
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="questions", verbose_name=_("tag")
    )
    resource = models.ForeignKey(
        Resource,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="questions",
        verbose_name=_("about the resource"),
    )
    private = models.BooleanField(
        _("private"),
        default=False,
        help_text=_("Only you, the department asked and admins see a private question."),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.OPEN, db_index=True)
    accepted_answer = models.OneToOneField(
        "Answer", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("accepted answer")
    )
    answer_count = models.PositiveIntegerField(_("answers"), default=0)
    created_at = models.DateTimeField(_("asked"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    escalated_at = models.DateTimeField(_("escalated"), null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(department__isnull=False) | Q(tag__isnull=False) | Q(resource__isnull=False),
                name="knowledge_question_addressed",
            )
        ]

    def __str__(self) -> str:
        return self.title


class Answer(models.Model):
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="answers")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("answered by")
    )
    # The department the author answered for, fixed when answering (recognition counts across departments).
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("department")
    )
    body = models.TextField(_("answer"), help_text=_("Markdown"))
    score = models.IntegerField(_("votes"), default=0)
    created_at = models.DateTimeField(_("answered"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["-score", "created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:60]


class Vote(models.Model):
    answer = models.ForeignKey(Answer, on_delete=models.CASCADE, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    value = models.SmallIntegerField(choices=[(1, "+1"), (-1, "-1")])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["answer", "voter"], name="knowledge_vote_once")]

    def __str__(self) -> str:
        return f"{self.voter_id} {self.value:+d} {self.answer_id}"


class Session(models.Model):
    """A sharing session (分享会)."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("scheduled")
        CANCELLED = "cancelled", _("cancelled")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown"))
    host_department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("host department")
    )
    speakers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="sessions_spoken", verbose_name=_("speakers")
    )
    starts_at = models.DateTimeField(_("starts"), db_index=True)
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=200, blank=True)
    link = models.URLField(_("online link"), max_length=500, blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), help_text=_("Seats; further sign-ups join the waiting list."))
    recording_url = models.URLField(_("recording"), max_length=500, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    sequence = models.PositiveIntegerField(default=0, help_text="iCalendar SEQUENCE: raised on each change")
    reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sharing session")
        verbose_name_plural = _("sharing sessions")
        ordering = ["starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")), name="knowledge_session_ends_after")
        ]

    def __str__(self) -> str:
        return self.title


class Signup(models.Model):
    class Status(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        WAITING = "waiting", _("waiting list")
        CANCELLED = "cancelled", _("cancelled")

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="signups")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="session_signups")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, db_index=True)
    signed_up_at = models.DateTimeField(_("signed up"), help_text="the waiting list's order")
    attended = models.BooleanField(_("attended"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-up")
        verbose_name_plural = _("sign-ups")
        ordering = ["signed_up_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["session", "user"], name="knowledge_signup_once")]

    def __str__(self) -> str:
        return f"{self.user_id} @ {self.session_id} ({self.status})"


class SessionMaterial(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="materials")
    blob = models.ForeignKey(Blob, on_delete=models.PROTECT, related_name="+")
    filename = models.CharField(_("file name"), max_length=255)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.filename


class SessionRating(models.Model):
    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    stars = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated"), auto_now_add=True)

    class Meta:
        verbose_name = _("session rating")
        verbose_name_plural = _("session ratings")
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="knowledge_session_rated_once"),
            models.CheckConstraint(condition=Q(stars__gte=1, stars__lte=5), name="knowledge_stars_1_to_5"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}: {self.stars}"


class Comment(models.Model):
    """A comment on a resource or an article (which is a resource), in threads one reply deep or more."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="comments")
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="replies")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    body = models.TextField(_("comment"))
    created_at = models.DateTimeField(_("written"), auto_now_add=True, db_index=True)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    hidden_at = models.DateTimeField(_("hidden"), null=True, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    hidden_reason = models.CharField(_("reason for hiding"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("comment")
        verbose_name_plural = _("comments")
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.body[:60]


class Rating(models.Model):
    """Useful or not, with a reason; one per person per resource (changeable)."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="ratings")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    useful = models.BooleanField(_("useful"))
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    updated_at = models.DateTimeField(_("rated"), auto_now=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [models.UniqueConstraint(fields=["resource", "user"], name="knowledge_rating_once")]

    def __str__(self) -> str:
        return f"{self.resource_id}: {self.useful}"


class Helped(models.Model):
    """ "This helped me": a recorded reuse, with what it was used for."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="helped")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(_("used for"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("marked"), auto_now_add=True)

    class Meta:
        verbose_name = _("“this helped me” mark")
        verbose_name_plural = _("“this helped me” marks")
        constraints = [models.UniqueConstraint(fields=["resource", "user"], name="knowledge_helped_once")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.resource_id}"


class Credit(models.Model):
    """One act of reuse by someone of another department, the source of recognition points.

    Points are credits times the weight of their kind (`PointWeight`, set by admins), computed when shown, so
    a change of weights re-scores history and every point has a line here to explain it. The unique
    constraint makes each person count once per item per kind per month."""

    class Kind(models.TextChoices):
        READ = "read", _("read by another department")
        DOWNLOAD = "download", _("downloaded by another department")
        GRANT = "grant", _("access granted to another department")
        CITATION = "citation", _("cited by another department")
        ANSWER = "answer", _("answer accepted by another department")
        HELPED = "helped", _("“this helped me” from another department")
        SESSION = "session", _("session rated by another department")
        PUBLISH = "publish", _("published")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    # Who reused (None for publishing, which is one's own act) and the department they acted for.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Whose work it was: a person (may be none, e.g. a department's dataset with no steward) and their department.
    person = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="credits"
    )
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE, related_name="credits")
    # The item reused: "resource:12", "answer:7", "session:3"; its label as it was when credited.
    item = models.CharField(max_length=40)
    item_label = models.CharField(max_length=200, blank=True)
    month = models.DateField(help_text="the first day of the month (UTC) it happened in", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("credit")
        verbose_name_plural = _("credits")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "actor", "item", "month"],
                condition=Q(actor__isnull=False),
                name="knowledge_credit_once_a_month",
            ),
            models.UniqueConstraint(
                fields=["kind", "item"], condition=Q(actor__isnull=True), name="knowledge_credit_publish_once"
            ),
        ]
        indexes = [
            models.Index(fields=["person", "month"], name="knowledge_credit_person"),
            models.Index(fields=["department", "month"], name="knowledge_credit_dept"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.item} {self.month:%Y-%m}"


class PointWeight(models.Model):
    """Admin-set points per credit kind; a kind with no row uses its default (sharehub.knowledge.points)."""

    kind = models.CharField(_("kind"), max_length=10, choices=Credit.Kind.choices, unique=True)
    points = models.PositiveSmallIntegerField(_("points"))
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("point weight")
        verbose_name_plural = _("point weights")

    def __str__(self) -> str:
        return f"{self.kind}: {self.points}"


class Badge(models.Model):
    class Code(models.TextChoices):
        FIRST_ANSWER = "first_answer", _("First answer to another department")
        TEN_DEPARTMENTS = "ten_departments", _("Reached 10 departments")
        FIRST_SESSION = "first_session", _("Hosted a sharing session")
        HELPFUL = "helpful", _("Helped 10 people of other departments")
        CENTURY = "century", _("100 points")

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="badges")
    code = models.CharField(_("badge"), max_length=20, choices=Code.choices)
    awarded_at = models.DateTimeField(_("awarded"), auto_now_add=True)

    class Meta:
        verbose_name = _("badge")
        verbose_name_plural = _("badges")
        constraints = [models.UniqueConstraint(fields=["user", "code"], name="knowledge_badge_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.code}"


class TourSeen(models.Model):
    """A first-run tour a person finished or dismissed, per role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(max_length=10)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="knowledge_tour_once")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.role}"


class CalendarFeed(models.Model):
    """The current secret of a person's sessions calendar feed address; a new one revokes the old address."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=32)
    renewed_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.user_id}: {self.renewed_at:%Y-%m-%d}"
