"""Scrutiny panels: volunteers review sampled Taser reports; the force answers findings."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from forces.models import Force
from incidents.models import UseOfForceReport
from oversight.triggers import Rule

BUILT_IN_SCALES = {
    "rag": ["Green", "Amber", "Red"],
    "practice": ["Good practice", "Adequate", "Concern"],
    "ljp": ["Lawful, justified and proportionate", "Not all of lawful, justified and proportionate"],
}
# On the lawful–justified–proportionate scale the grade follows from this checklist: the first
# grade when every question is answered yes, the second otherwise.
LJP_CHECKLIST = ("Was the use lawful?", "Was it justified?", "Was it proportionate?")
# How a member answers each rubric question ("not applicable" is not an answer to the LJP checklist).
ANSWERS = (("yes", "Yes"), ("no", "No"), ("unclear", "Could not tell"), ("na", "Not applicable"))
# The body-worn video checklist a new panel's rubric starts from; the panel may change it before grading.
NATIONAL_RUBRIC = (
    "Camera activated before the Taser was drawn?",
    "Warning given?",
    "De-escalation attempted?",
    "Was the person's vulnerability recognised?",
    "Aftercare given (probes removed, medical check)?",
    "Does the footage match the officer's account?",
)


# Why a report the rule selects is left out of a draw; the last two only unless the sample's
# parameters say `include_sampled`.
LEFT_OUT = {
    "this_meeting": "already sampled for this meeting",
    "reviewed": "already reviewed by the panel",
    "in_another_sample": "in another of the panel's samples, not yet reviewed",
}


class Panel(models.Model):
    class Scale(models.TextChoices):
        RAG = "rag", "Red / amber / green"
        PRACTICE = "practice", "Good practice / adequate / concern"
        LJP = "ljp", "Lawful, justified and proportionate (checklist)"
        CUSTOM = "custom", "Custom"

    force = models.ForeignKey(Force, on_delete=models.PROTECT, related_name="panels")
    name = models.CharField(max_length=120)
    terms_of_reference = models.TextField(blank=True)
    grading_scale = models.CharField(max_length=10, choices=Scale.choices, default=Scale.RAG)
    custom_grades = models.JSONField(default=list, blank=True, help_text="Grades, best first, for a custom scale")
    rubric = models.JSONField(default=list, blank=True, help_text="The questions each member answers")
    quorum = models.PositiveSmallIntegerField(default=2, help_text="Members present for the panel to record findings")

    class Meta:
        ordering = ["force", "name"]
        constraints = [models.UniqueConstraint(fields=["force", "name"], name="panel_name_unique_in_force")]

    def __str__(self):
        return self.name

    @property
    def grades(self):
        return self.custom_grades if self.grading_scale == self.Scale.CUSTOM else BUILT_IN_SCALES[self.grading_scale]

    @property
    def questions(self):
        """What each member answers: the checklist of the lawful–justified–proportionate scale, then the rubric."""
        return [*LJP_CHECKLIST, *self.rubric] if self.grading_scale == self.Scale.LJP else list(self.rubric)

    def grade_from_checklist(self, answers):
        """The lawful–justified–proportionate grade the checklist answers give; "" until all are answered."""
        given = [answers.get(question, "") for question in LJP_CHECKLIST]
        if "" in given:
            return ""
        return self.grades[0] if all(answer == "yes" for answer in given) else self.grades[1]


class PanelMember(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", "Chair"
        MEMBER = "member", "Member"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="panel_memberships")
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="members")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    term_starts_on = models.DateField()
    term_ends_on = models.DateField(null=True, blank=True)
    vetted_on = models.DateField(null=True, blank=True)
    trained_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["panel", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "panel"], name="one_membership_per_panel"),
            models.CheckConstraint(
                condition=models.Q(term_ends_on__isnull=True) | models.Q(term_ends_on__gte=models.F("term_starts_on")),
                name="term_ends_after_it_starts",
            ),
        ]

    def __str__(self):
        return f"{self.user} on {self.panel}"

    @property
    def vetting_expires_on(self):
        """The day vetting lapses: settings.PANEL_VETTING_VALID_YEARS after the vetting date."""
        if self.vetted_on is None:
            return None
        years = settings.PANEL_VETTING_VALID_YEARS
        try:
            return self.vetted_on.replace(year=self.vetted_on.year + years)
        except ValueError:  # vetted on 29 February, and the year it lapses has none
            return self.vetted_on.replace(year=self.vetted_on.year + years, day=28)

    def barrier(self, on=None):
        """Why the member may not open or review cases on `on` (today by default), or "" if they may."""
        on = on or timezone.localdate()
        if on < self.term_starts_on:
            return f"Your term on {self.panel} starts on {self.term_starts_on:%-d %B %Y}."
        if self.term_ends_on and on > self.term_ends_on:
            return f"Your term on {self.panel} ended on {self.term_ends_on:%-d %B %Y}."
        if self.vetted_on is None:
            return f"Your vetting for {self.panel} has not been recorded."
        if on >= self.vetting_expires_on:
            return f"Your vetting for {self.panel} lapsed on {self.vetting_expires_on:%-d %B %Y}."
        if self.trained_on is None:
            return f"Your training for {self.panel} has not been recorded."
        return ""

    @property
    def is_chair(self):
        return self.role == self.Role.CHAIR


class Meeting(models.Model):
    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="meetings")
    held_on = models.DateField()
    notes = models.TextField(blank=True)
    agenda = models.TextField(blank=True)
    minutes = models.TextField(blank=True)
    minutes_approved_at = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="minutes_approved",
        help_text="The meeting that approved these minutes: the panel's next",
    )  # fmt: skip

    class Meta:
        ordering = ["panel", "-held_on"]

    def __str__(self):
        return f"{self.panel} meeting {self.held_on}"


class Attendance(models.Model):
    class Status(models.TextChoices):
        PRESENT = "present", "Present"
        APOLOGIES = "apologies", "Apologies"
        ABSENT = "absent", "Absent"

    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, related_name="attendance")
    member = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="attendance")
    status = models.CharField(max_length=10, choices=Status.choices)

    class Meta:
        ordering = ["meeting", "member"]
        constraints = [models.UniqueConstraint(fields=["meeting", "member"], name="attendance_once_a_meeting")]

    def __str__(self):
        return f"{self.member} at {self.meeting}: {self.get_status_display()}"


class CaseSample(models.Model):
    """A dip-sample drawn for a meeting by a recorded rule, so it can be drawn again."""

    class Rule(models.TextChoices):
        ALL_DISCHARGES = "all_discharges", "Every discharge in the period"
        RANDOM_NON_DISCHARGE = "random_non_discharge", "Stratified random share of non-discharge uses"
        CHILDREN_OR_MENTAL_HEALTH = "children_or_mental_health", "Cases involving children or mental health"
        AREA_FOCUS = "area_focus", "Area focus"
        CHAIR_CHOICE = "chair_choice", "Chosen by the chair"

    panel = models.ForeignKey(Panel, on_delete=models.PROTECT, related_name="samples")
    meeting = models.ForeignKey(Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="samples")
    rule = models.CharField(max_length=30, choices=Rule.choices)
    parameters = models.JSONField(default=dict, blank=True)
    seed = models.BigIntegerField(null=True, blank=True)
    period_starts_on = models.DateField()
    period_ends_on = models.DateField()
    data_version = models.PositiveIntegerField(
        null=True, blank=True, help_text="The force's data version when drawn: a re-draw reads the reports as of it"
    )
    eligible = models.PositiveIntegerField(
        null=True, blank=True, help_text="Reports the rule selected in the period, before any were left out"
    )
    left_out = models.JSONField(
        default=dict, blank=True, help_text="Ids of the reports left out before the draw, by reason (LEFT_OUT)"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["panel", "-created_at"]

    def __str__(self):
        return f"{self.get_rule_display()} for {self.panel}"

    def left_out_counts(self):
        """[(reason in words, how many)] of the reports left out before the draw."""
        return [(label, len(self.left_out[key])) for key, label in LEFT_OUT.items() if self.left_out.get(key)]

    @property
    def left_out_total(self):
        return sum(len(ids) for ids in self.left_out.values())


class SampledCase(models.Model):
    sample = models.ForeignKey(CaseSample, on_delete=models.PROTECT, related_name="cases")
    report = models.ForeignKey(UseOfForceReport, on_delete=models.PROTECT, related_name="sampled_cases")
    reason = models.TextField(blank=True, help_text="Why the chair added the case")
    needs_video_follow_up = models.BooleanField(default=False, help_text="No body-worn video recorded")
    video_follow_up = models.TextField(blank=True, help_text="What the force said when asked about the missing video")
    video_followed_up_at = models.DateTimeField(null=True, blank=True)
    video_followed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    opened_at_meeting_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sample", "report"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "report"], name="report_once_per_sample"),
            models.CheckConstraint(
                condition=models.Q(video_followed_up_at__isnull=True) | ~models.Q(video_follow_up=""),
                name="video_follow_up_says_what_came_of_it",
            ),
        ]

    def __str__(self):
        return f"Case {self.pk}: report {self.report_id}"


class Review(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"

    sampled_case = models.ForeignKey(SampledCase, on_delete=models.PROTECT, related_name="reviews")
    member = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="reviews")
    grade = models.CharField(max_length=80, blank=True)
    rubric_answers = models.JSONField(default=dict, blank=True)
    rubric_comments = models.JSONField(default=dict, blank=True, help_text="The member's comment on an answer")
    learning_points = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["sampled_case", "member"]
        constraints = [
            models.UniqueConstraint(fields=["sampled_case", "member"], name="one_review_per_member_and_case"),
            models.CheckConstraint(
                condition=~models.Q(status="submitted") | (models.Q(submitted_at__isnull=False) & ~models.Q(grade="")),
                name="submitted_review_has_grade_and_date",
            ),
        ]

    def __str__(self):
        return f"Review of case {self.sampled_case_id} by {self.member}"


class Declaration(models.Model):
    """A member's declared conflict of interest, recorded with the meeting: with a case of it (they do
    not review that case), or with the meeting's business in general."""

    sampled_case = models.ForeignKey(
        SampledCase, on_delete=models.PROTECT, null=True, blank=True, related_name="declarations",
        help_text="The case the conflict is with; empty: the meeting's business in general",
    )  # fmt: skip
    meeting = models.ForeignKey(
        Meeting, on_delete=models.PROTECT, null=True, blank=True, related_name="declarations",
        help_text="The meeting it is recorded with: the one it was declared at, or its case's",
    )  # fmt: skip
    member = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="declarations")
    interest = models.TextField()
    declared_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        help_text="The member themselves, or the chair at the meeting",
    )  # fmt: skip

    class Meta:
        ordering = ["declared_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sampled_case", "member"], name="one_declaration_per_case"),
            models.CheckConstraint(
                condition=models.Q(sampled_case__isnull=False) | models.Q(meeting__isnull=False),
                name="declaration_with_a_case_or_a_meeting",
            ),
        ]

    def __str__(self):
        if self.sampled_case_id:
            return f"{self.member} declared an interest in case {self.sampled_case_id}"
        return f"{self.member} declared an interest at {self.meeting}"


class FootageClip(models.Model):
    """A body-worn video clip of the case in the force's digital evidence system, by reference: no
    video is stored here, and a link the system gives lapses when it says."""

    sampled_case = models.ForeignKey(SampledCase, on_delete=models.PROTECT, related_name="clips")
    system = models.CharField(max_length=80, help_text="The force's digital evidence system")
    clip_id = models.CharField(max_length=120, help_text="The clip's id in that system")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    link = models.URLField(blank=True, max_length=500, help_text="A viewing link, if the system gives one")
    link_expires_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sampled_case", "starts_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["sampled_case", "system", "clip_id"], name="clip_once_per_case"),
            models.CheckConstraint(
                condition=models.Q(ends_at__gte=models.F("starts_at")), name="clip_ends_after_start"
            ),
        ]

    def __str__(self):
        return f"{self.system} clip {self.clip_id}"

    def link_open(self, now=None):
        """Whether the link may still be followed."""
        return bool(self.link) and (self.link_expires_at is None or (now or timezone.now()) < self.link_expires_at)


class FootageViewing(models.Model):
    """A member's record of what they watched of a clip."""

    class Watched(models.TextChoices):
        IN_FULL = "in_full", "Watched in full"
        IN_PART = "in_part", "Watched in part"
        COULD_NOT = "could_not", "Could not watch it"

    clip = models.ForeignKey(FootageClip, on_delete=models.PROTECT, related_name="viewings")
    member = models.ForeignKey(PanelMember, on_delete=models.PROTECT, related_name="viewings")
    watched = models.CharField(max_length=10, choices=Watched.choices)
    note = models.TextField(blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["clip", "recorded_at", "pk"]

    def __str__(self):
        return f"{self.member} on clip {self.clip_id}: {self.get_watched_display()}"


class OfficerAccount(models.Model):
    """The officer's account of the use of force, as the force supplied it for the case."""

    sampled_case = models.ForeignKey(SampledCase, on_delete=models.PROTECT, related_name="officer_accounts")
    account = models.TextField()
    supplied_on = models.DateField()
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sampled_case", "supplied_on", "pk"]

    def __str__(self):
        return f"Officer's account for case {self.sampled_case_id}"


class CaseView(models.Model):
    """Who opened a sampled case, and when."""

    sampled_case = models.ForeignKey(SampledCase, on_delete=models.PROTECT, related_name="views")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    viewed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-viewed_at"]

    def __str__(self):
        return f"{self.user} viewed case {self.sampled_case_id} at {self.viewed_at:%Y-%m-%d %H:%M}"


class Finding(models.Model):
    class Theme(models.TextChoices):
        COMMUNICATION = "communication", "Communication"
        DE_ESCALATION = "de_escalation", "De-escalation"
        PROPORTIONALITY = "proportionality", "Proportionality"
        VULNERABILITY = "vulnerability", "Vulnerability"
        RECORDING = "recording", "Recording"
        OTHER = "other", "Other"

    sampled_case = models.OneToOneField(SampledCase, on_delete=models.PROTECT, related_name="finding")
    panel_grade = models.CharField(max_length=80)
    summary = models.TextField()
    themes = models.JSONField(default=list, blank=True)
    for_force_feedback = models.BooleanField(default=False)
    response_due_on = models.DateField(null=True, blank=True, help_text="When the force's response is due")
    published = models.BooleanField(default=False)
    published_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-recorded_at"]

    def __str__(self):
        return f"Finding on case {self.sampled_case_id}: {self.panel_grade}"

    def theme_labels(self):
        labels = dict(self.Theme.choices)
        return [labels.get(theme, theme) for theme in self.themes]


class ForceResponse(models.Model):
    class Position(models.TextChoices):
        ACCEPTED = "accepted", "Accepted"
        PARTLY = "partly", "Partly accepted"
        NOT_ACCEPTED = "not_accepted", "Not accepted"

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="responses")
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT)
    position = models.CharField(
        max_length=12, choices=Position.choices, blank=True, help_text="Empty: given before positions were asked"
    )
    response = models.TextField()
    responded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["finding", "responded_at"]

    def __str__(self):
        return f"Response to finding {self.finding_id}"


class Action(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        CLOSED = "closed", "Closed"

    finding = models.ForeignKey(Finding, on_delete=models.PROTECT, related_name="actions")
    description = models.TextField()
    owner = models.CharField(max_length=120, help_text="Who at the force or PCC office owns it")
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    evidence = models.TextField(blank=True, help_text="What shows the action is done")
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["due_on"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="closed") | models.Q(closed_at__isnull=False),
                name="closed_action_has_closing_date",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="closed") | ~models.Q(evidence=""), name="closed_action_has_evidence"
            ),
        ]

    def __str__(self):
        return f"Action {self.pk} ({self.get_status_display()})"

    def is_overdue(self, on=None):
        return self.status != self.Status.CLOSED and self.due_on < (on or timezone.localdate())


class ActionUpdate(models.Model):
    """One dated step in an action's life: opened, moved on, or a note; never edited or deleted."""

    action = models.ForeignKey(Action, on_delete=models.PROTECT, related_name="updates")
    status_from = models.CharField(max_length=12, choices=Action.Status.choices, blank=True, help_text="Empty: opened")
    status_to = models.CharField(max_length=12, choices=Action.Status.choices)
    note = models.TextField(blank=True)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    updated_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["action", "updated_at", "id"]

    def __str__(self):
        return f"Action {self.action_id}: {self.status_from or 'new'} → {self.status_to}"


class Notification(models.Model):
    """Something a user should know of, e-mailed and listed on their own page; sent once per key."""

    class Kind(models.TextChoices):
        CASES_DRAWN = "cases_drawn", "Cases drawn"
        FINDING_SENT = "finding_sent", "Finding sent to the force"
        RESPONSE_DUE = "response_due", "Response due"
        RESPONSE_OVERDUE = "response_overdue", "Response overdue"
        ACTION_OVERDUE = "action_overdue", "Action overdue"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    link = models.CharField(max_length=200, blank=True)
    key = models.CharField(max_length=120, help_text="What it is about: one notification per user and key")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="notified_once_per_key")]

    def __str__(self):
        return f"{self.user}: {self.subject}"


INTEGRITY_RULES = (
    Rule(
        "declaration_by_member_of_meeting_panel",
        Declaration._meta.db_table,
        "NEW.meeting_id IS NULL OR EXISTS (SELECT 1 FROM scrutiny_panelmember m, scrutiny_meeting g "
        "WHERE m.id = NEW.member_id AND g.id = NEW.meeting_id AND m.panel_id = g.panel_id)",
        "an interest may only be declared at a meeting of the member's own panel",
    ),
    Rule(
        "viewing_by_member_of_case_panel",
        FootageViewing._meta.db_table,
        "EXISTS (SELECT 1 FROM scrutiny_panelmember m, scrutiny_footageclip c, scrutiny_sampledcase sc, "
        "scrutiny_casesample s WHERE m.id = NEW.member_id AND c.id = NEW.clip_id AND sc.id = c.sampled_case_id "
        "AND s.id = sc.sample_id AND m.panel_id = s.panel_id)",
        "a clip may only be recorded as watched by a member of the panel that sampled its case",
    ),
    Rule(
        "review_by_member_of_case_panel",
        Review._meta.db_table,
        "EXISTS (SELECT 1 FROM scrutiny_panelmember m, scrutiny_sampledcase sc, scrutiny_casesample s "
        "WHERE m.id = NEW.member_id AND sc.id = NEW.sampled_case_id AND s.id = sc.sample_id "
        "AND m.panel_id = s.panel_id)",
        "a case may only be reviewed by a member of the panel that sampled it",
    ),
    Rule(
        "sampled_report_of_panel_force",
        SampledCase._meta.db_table,
        "EXISTS (SELECT 1 FROM scrutiny_casesample s, scrutiny_panel p, incidents_useofforcereport r "
        "WHERE s.id = NEW.sample_id AND p.id = s.panel_id AND r.id = NEW.report_id AND r.force_id = p.force_id)",
        "a panel may only sample reports of its own force",
    ),
    Rule(
        "sample_meeting_of_same_panel",
        CaseSample._meta.db_table,
        "NEW.meeting_id IS NULL OR EXISTS "
        "(SELECT 1 FROM scrutiny_meeting m WHERE m.id = NEW.meeting_id AND m.panel_id = NEW.panel_id)",
        "a sample may only be drawn for a meeting of its own panel",
    ),
    Rule(
        "chair_choice_case_has_reason",
        SampledCase._meta.db_table,
        "NEW.reason <> '' OR NOT EXISTS "
        "(SELECT 1 FROM scrutiny_casesample s WHERE s.id = NEW.sample_id AND s.rule = 'chair_choice')",
        "a case chosen by the chair needs the chair's reason",
    ),
)
