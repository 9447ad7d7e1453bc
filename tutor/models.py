"""The web app's tables: accounts and roles, classes, content, assignments, tutoring sessions and their turns."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.urls import reverse

from pedagogy import domain

# Join codes avoid letters and digits that read alike (0/O, 1/I/L) because students type them from a board.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


class User(AbstractUser):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TEACHER = "teacher", "Teacher"
        ADMIN = "admin", "Admin"

    role = models.CharField(max_length=10, choices=Role.choices, default=Role.STUDENT)

    @property
    def is_student(self) -> bool:
        return self.role == self.Role.STUDENT

    @property
    def is_teacher(self) -> bool:
        return self.role == self.Role.TEACHER

    @property
    def is_admin(self) -> bool:
        """Admins are staff; a superuser counts as an admin whatever its role field says."""
        return self.is_superuser or (self.role == self.Role.ADMIN and self.is_staff)

    @property
    def display_name(self) -> str:
        """The one name the app shows for a person: the full name when there is one, else the username. Pages and
        messages use this (or the ``display_name`` template filter), never ``username`` on its own."""
        return self.get_full_name() or self.username


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class Classroom(models.Model):
    name = models.CharField(max_length=120)
    teacher = models.ForeignKey(User, on_delete=models.PROTECT, related_name="classes_taught")
    students = models.ManyToManyField(User, through="Enrollment", related_name="classes_joined")
    join_code = models.CharField(max_length=JOIN_CODE_LENGTH, unique=True, default=new_join_code)
    is_open = models.BooleanField(default=True, help_text="Whether students may still join with the code.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("class_detail", args=[self.pk])


class Enrollment(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE)
    student = models.ForeignKey(User, on_delete=models.CASCADE)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["classroom", "student"], name="enrollment_unique")]

    def __str__(self) -> str:
        return f"{self.student} in {self.classroom}"


class AnswerType(models.TextChoices):
    NUMBER = "number", "Number"
    EXPRESSION = "expression", "Expression"
    EQUATION = "equation", "Equation"
    MULTIPLE_CHOICE = "multiple_choice", "Multiple choice"
    TEXT = "text", "Text"


class ProblemSet(models.Model):
    slug = models.SlugField(max_length=120, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    source = models.CharField(max_length=60, blank=True, help_text="native, oatutor, gsm8k, ...")
    license = models.CharField(max_length=120, blank=True)
    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Problem(models.Model):
    """A word problem. Content that sessions already use is versioned: a changed import adds a new version and
    retires the old one (``is_current=False``) instead of editing it under the students working on it."""

    problem_set = models.ForeignKey(ProblemSet, on_delete=models.CASCADE, related_name="problems")
    slug = models.SlugField(max_length=160)
    version = models.PositiveIntegerField(default=1)
    is_current = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    text = models.TextField(help_text="Markdown with $...$ math.")
    answer = models.CharField(max_length=500)
    answer_type = models.CharField(max_length=20, choices=AnswerType.choices, default=AnswerType.NUMBER)
    unit = models.CharField(max_length=60, blank=True)
    choices = models.JSONField(default=list, blank=True)
    skills = models.ManyToManyField("knowledge_graph.Skill", blank=True, related_name="problems")
    # A digest of the authored content: a re-import with the same digest changes nothing.
    content_hash = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["problem_set", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["problem_set", "slug", "version"], name="problem_version_unique"),
            models.UniqueConstraint(
                fields=["problem_set", "slug"],
                condition=models.Q(is_current=True),
                name="problem_one_current",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def to_domain(self) -> domain.Problem:
        """The problem as the planner sees it. Prefetch steps, hints, misconceptions and skills to keep it cheap."""
        return domain.Problem(
            id=f"{self.slug}@{self.version}",
            title=self.title,
            text=self.text,
            answer=self.answer,
            answer_type=self.answer_type,  # type: ignore[arg-type]
            unit=self.unit or None,
            skills=tuple(s.code for s in self.skills.all()),
            steps=tuple(step.to_domain() for step in self.steps.all()),
        )


class Step(models.Model):
    problem = models.ForeignKey(Problem, on_delete=models.CASCADE, related_name="steps")
    position = models.PositiveIntegerField()
    prompt = models.TextField(help_text="The sub-question the tutor asks for this step.")
    answer = models.CharField(max_length=500)
    answer_type = models.CharField(max_length=20, choices=AnswerType.choices, default=AnswerType.NUMBER)
    choices = models.JSONField(default=list, blank=True)
    skills = models.ManyToManyField("knowledge_graph.Skill", blank=True, related_name="steps")

    class Meta:
        ordering = ["problem", "position"]
        constraints = [models.UniqueConstraint(fields=["problem", "position"], name="step_position_unique")]

    def __str__(self) -> str:
        return f"{self.problem.slug} step {self.position}"

    def to_domain(self) -> domain.Step:
        return domain.Step(
            id=str(self.position),
            prompt=self.prompt,
            answer=self.answer,
            answer_type=self.answer_type,  # type: ignore[arg-type]
            skills=tuple(s.code for s in self.skills.all()),
            hints=tuple(
                domain.Hint(
                    kind=h.kind,  # type: ignore[arg-type]
                    text=h.text,
                    answer=h.answer or None,
                    answer_type=h.answer_type,  # type: ignore[arg-type]
                )
                for h in self.hints.all()
            ),
            misconceptions=tuple(
                domain.Misconception(wrong=m.wrong, feedback=m.feedback, pattern=m.is_pattern)
                for m in self.misconceptions.all()
            ),
        )


class Hint(models.Model):
    class Kind(models.TextChoices):
        HINT = "hint", "Hint"
        SCAFFOLD = "scaffold", "Scaffold question"
        BOTTOM_OUT = "bottom_out", "Bottom-out"

    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="hints")
    position = models.PositiveIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.HINT)
    text = models.TextField()
    # Only scaffolds have an answer: they are sub-questions the student answers on the way to the step.
    answer = models.CharField(max_length=500, blank=True)
    answer_type = models.CharField(max_length=20, choices=AnswerType.choices, default=AnswerType.NUMBER)

    class Meta:
        ordering = ["step", "position"]
        constraints = [
            models.UniqueConstraint(fields=["step", "position"], name="hint_position_unique"),
            models.CheckConstraint(
                condition=~models.Q(kind="scaffold") | ~models.Q(answer=""), name="hint_scaffold_has_answer"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.position}: {self.text[:60]}"


class Misconception(models.Model):
    step = models.ForeignKey(Step, on_delete=models.CASCADE, related_name="misconceptions")
    wrong = models.CharField(max_length=500, help_text="A wrong value, or a regular expression if is_pattern.")
    is_pattern = models.BooleanField(default=False)
    feedback = models.TextField()

    def __str__(self) -> str:
        return f"{self.wrong} -> {self.feedback[:60]}"


class Assignment(models.Model):
    """A problem set given to a class, with the hint budget the tutor enforces."""

    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="assignments")
    problem_set = models.ForeignKey(ProblemSet, on_delete=models.PROTECT, related_name="assignments")
    hints_per_problem = models.PositiveSmallIntegerField(default=3)
    tellings_per_problem = models.PositiveSmallIntegerField(default=1)
    hints_total = models.PositiveIntegerField(
        null=True, blank=True, help_text="Hints across the whole assignment; empty means no overall cap."
    )
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["classroom", "problem_set"], name="assignment_unique_per_class")]

    def __str__(self) -> str:
        return f"{self.problem_set} for {self.classroom}"


class TutoringSession(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active", "In progress"
        SOLVED = "solved", "Solved"
        ABANDONED = "abandoned", "Stopped"

    student = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tutoring_sessions")
    problem = models.ForeignKey(Problem, on_delete=models.PROTECT, related_name="sessions")
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="sessions"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    dialogue_state = models.JSONField(default=dict, blank=True)
    hints_used = models.PositiveSmallIntegerField(default=0)
    tellings_used = models.PositiveSmallIntegerField(default=0)
    needs_attention = models.BooleanField(default=False, help_text="Flagged for the teacher, e.g. budget spent.")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            # One unfinished session per student and problem: resuming beats starting over by accident.
            models.UniqueConstraint(
                fields=["student", "problem"], condition=models.Q(status="active"), name="session_one_active"
            )
        ]
        indexes = [models.Index(fields=["student", "status"])]

    def __str__(self) -> str:
        return f"{self.student} on {self.problem}"

    def get_absolute_url(self) -> str:
        return reverse("session_detail", args=[self.pk])


class AppendOnlyError(RuntimeError):
    """Turns are a record of what was said; they are never edited or deleted one by one."""


class TurnQuerySet(models.QuerySet["Turn"]):
    def update(self, **kwargs: Any) -> int:
        raise AppendOnlyError("turns are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("turns are append-only")


class Turn(models.Model):
    class Role(models.TextChoices):
        STUDENT = "student", "Student"
        TUTOR = "tutor", "Tutor"
        SYSTEM = "system", "System"

    session = models.ForeignKey(TutoringSession, on_delete=models.CASCADE, related_name="turns")
    seq = models.PositiveIntegerField(help_text="Position in the session, from 1.")
    role = models.CharField(max_length=10, choices=Role.choices)
    text = models.TextField()
    move = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=dict, blank=True)
    guard_verdict = models.JSONField(default=dict, blank=True)
    backend = models.CharField(max_length=40, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    # NULL, not "", for turns without a client id (tutor turns): the unique constraint below must ignore them.
    client_message_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TurnQuerySet.as_manager()

    class Meta:
        ordering = ["session", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["session", "seq"], name="turn_seq_unique"),
            # A resent message (double click, reconnect) is stored once.
            models.UniqueConstraint(
                fields=["session", "client_message_id"],
                condition=models.Q(client_message_id__isnull=False),
                name="turn_client_id_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.session_id}#{self.seq} {self.role}: {self.text[:60]}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnlyError("turns are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise AppendOnlyError("turns are append-only")


class TurnCorrection(models.Model):
    """A teacher's rewrite of a tutor turn: shown beside the turn to teachers, and preference data for fine-tuning
    (the rewrite is preferred to what the tutor said). The turn itself stays as it was said."""

    turn = models.ForeignKey(Turn, on_delete=models.CASCADE, related_name="corrections")
    author = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="turn_corrections")
    text = models.TextField(help_text="What the tutor should have said.")
    note = models.CharField(max_length=500, blank=True, help_text="Why, for the record.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["turn", "created_at", "id"]

    def __str__(self) -> str:
        return f"correction of {self.turn}"


class ImportJob(models.Model):
    """An uploaded problem-set file and what importing it did. The upload is kept only until the import has run."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting"
        RUNNING = "running", "Importing"
        DONE = "done", "Imported"
        FAILED = "failed", "Not imported"

    created_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs")
    filename = models.CharField(max_length=255)
    format = models.CharField(max_length=20, blank=True, help_text="Empty: detected from the file.")
    set_name = models.CharField(max_length=200, blank=True)
    upload = models.BinaryField(null=True, blank=True, editable=False)
    # A preview reads and checks the file as an import does but stores nothing, and keeps the upload so the admin
    # can look at each problem as students will see it and then store the set (the job becomes an import).
    preview_only = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.CharField(max_length=200, blank=True)
    problem_set = models.ForeignKey(
        ProblemSet, null=True, blank=True, on_delete=models.SET_NULL, related_name="import_jobs"
    )
    summary = models.TextField(blank=True)
    counts = models.JSONField(default=dict, blank=True)
    report = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("admin_import_job", args=[self.pk])

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED)

    @property
    def status_label(self) -> str:
        """The status for people: a finished preview stored nothing, so it does not read "Imported"."""
        if self.preview_only and self.status == self.Status.DONE:
            return "Previewed, not stored"
        if self.preview_only and self.status == self.Status.RUNNING:
            return "Reading"
        return self.get_status_display()


class SessionFigures(models.Model):
    """What one tutoring session amounted to, computed from its stored turns (``tutor.analytics``) for the teacher's
    dashboard and exports. Derived data: recomputing it from the turns gives the same row, so it is refreshed
    whenever it is older than the session (``source_updated_at`` differs from the session's ``updated_at``)."""

    session = models.OneToOneField(TutoringSession, on_delete=models.CASCADE, related_name="figures")
    # The session's ``updated_at`` when these figures were computed: any later turn makes them stale.
    source_updated_at = models.DateTimeField()
    computed_at = models.DateTimeField(auto_now=True)
    solved = models.BooleanField(default=False)
    turns = models.PositiveIntegerField(default=0, help_text="Student and tutor turns, notes left out.")
    student_turns = models.PositiveIntegerField(default=0)
    time_on_task_seconds = models.PositiveIntegerField(default=0)
    hints_used = models.PositiveIntegerField(default=0)
    steps = models.PositiveIntegerField(default=0, help_text="Steps the problem has.")
    steps_resolved = models.PositiveIntegerField(default=0)
    steps_told = models.PositiveIntegerField(default=0)
    steps_first_attempt_correct = models.PositiveIntegerField(default=0)
    student_chars = models.PositiveIntegerField(default=0)
    tutor_chars = models.PositiveIntegerField(default=0)
    # {kind: {"seq": turn to look at, "count": how often, "label": a line for the teacher}}; a dict keyed by kind
    # so a filter is a ``has_key`` lookup on any database.
    flags = models.JSONField(default=dict, blank=True)
    # One entry per hint, smaller question or worked example given: {"node", "kind", "text"}.
    hints = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name_plural = "session figures"

    def __str__(self) -> str:
        return f"figures of session {self.session_id}"

    @property
    def telling_rate(self) -> float | None:
        """Steps the tutor told, out of the problem's steps."""
        return self.steps_told / self.steps if self.steps else None

    @property
    def talk_share(self) -> float | None:
        """The student's share of the characters written in the session."""
        total = self.student_chars + self.tutor_chars
        return self.student_chars / total if total else None

    @property
    def first_attempt_rate(self) -> float | None:
        """Resolved steps the student got right on the first try with no help, out of the resolved steps."""
        return self.steps_first_attempt_correct / self.steps_resolved if self.steps_resolved else None


# -- LTI 1.3 -----------------------------------------------------------------------------------------------------------
# A school's learning platform (Canvas, Moodle) launches the tutor; these tables remember who it is and what its
# users, courses and links are here. Accounts and classes are keyed by the platform's own ids, never by e-mail.


class LtiPlatform(models.Model):
    """One registration of the tutor on a learning platform, entered by an admin from the platform's tool settings."""

    name = models.CharField(max_length=120)
    issuer = models.URLField(
        max_length=255, help_text="The platform's issuer (iss), e.g. https://canvas.instructure.com"
    )
    client_id = models.CharField(max_length=255, help_text="The client id the platform gave the tutor.")
    deployment_ids = models.JSONField(default=list, help_text='Accepted deployment ids, e.g. ["1:abc"].')
    auth_login_url = models.URLField(max_length=500, help_text="The platform's OIDC authorization endpoint.")
    auth_token_url = models.URLField(max_length=500, help_text="The platform's OAuth2 token endpoint.")
    auth_audience = models.CharField(
        max_length=500, blank=True, help_text="Audience of token requests, when the platform wants other than the URL."
    )
    key_set_url = models.URLField(max_length=500, blank=True, help_text="The platform's public JWKS URL.")
    public_key = models.TextField(blank=True, help_text="The platform's public key (PEM), if it gives no JWKS URL.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["issuer", "client_id"], name="lti_platform_unique_client")]

    def __str__(self) -> str:
        return f"{self.name} ({self.issuer})"


class LtiIdentity(models.Model):
    """A platform user (issuer + sub) and the tutor account it signs in as."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="lti_identities")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "subject"], name="lti_identity_unique_subject")]

    def __str__(self) -> str:
        return f"{self.subject} on {self.platform.name}"


class LtiContext(models.Model):
    """A platform course (issuer + context id) and the tutor class that stands for it."""

    platform = models.ForeignKey(LtiPlatform, on_delete=models.CASCADE, related_name="contexts")
    context_id = models.CharField(max_length=255)
    classroom = models.OneToOneField(Classroom, on_delete=models.CASCADE, related_name="lti_context")
    # Until an instructor launches, the class belongs to the platform's placeholder teacher.
    teacher_claimed = models.BooleanField(default=False)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "context_id"], name="lti_context_unique_id")]

    def __str__(self) -> str:
        return f"{self.context_id} on {self.platform.name}"


class LtiResourceLink(models.Model):
    """A link placed in a course: the problem set it assigns and the grade column (AGS line item) it reports to."""

    context = models.ForeignKey(LtiContext, on_delete=models.CASCADE, related_name="resource_links")
    resource_link_id = models.CharField(max_length=255)
    assignment = models.ForeignKey(
        Assignment, null=True, blank=True, on_delete=models.SET_NULL, related_name="lti_resource_links"
    )
    lineitem_url = models.URLField(max_length=500, blank=True)
    score_scopes = models.JSONField(default=list, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["context", "resource_link_id"], name="lti_resource_link_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.resource_link_id} in {self.context}"
