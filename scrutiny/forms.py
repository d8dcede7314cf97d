from django import forms
from django.contrib.auth import get_user_model

from forces.models import Area, Role
from scrutiny.models import (
    ANSWERS,
    NATIONAL_RUBRIC,
    Action,
    CaseSample,
    Finding,
    FootageViewing,
    ForceResponse,
    Panel,
    PanelMember,
)
from scrutiny.queries import STRATA
from scrutiny.services import NEXT_STATUSES


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class LinesField(forms.CharField):
    """A list of short texts, one a line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def to_python(self, value):
        return [line.strip() for line in (value or "").splitlines() if line.strip()]

    def prepare_value(self, value):
        return "\n".join(value) if isinstance(value, list | tuple) else value


class PanelForm(forms.Form):
    name = forms.CharField(max_length=120)
    terms_of_reference = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    grading_scale = forms.ChoiceField(choices=Panel.Scale.choices)
    custom_grades = LinesField(required=False, help_text="For a custom scale: its grades, best first, one a line.")
    rubric = LinesField(
        required=False,
        help_text="The questions each member answers, one a line, e.g. “Warning given?”. "
        "The lawful–justified–proportionate scale adds its three checklist questions itself.",
    )
    quorum = forms.IntegerField(
        min_value=1, max_value=100, initial=2, required=False,
        help_text="Members present for the panel to record findings: a meeting with fewer records none. "
        "Empty: 2 for a new panel, unchanged for this one.",
    )  # fmt: skip


def new_panel_form(data=None):
    """The form setting up a panel, its rubric filled with the national body-worn video checklist."""
    return PanelForm(data, initial={"rubric": list(NATIONAL_RUBRIC)})


class MemberForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Panel member")
    role = forms.ChoiceField(choices=PanelMember.Role.choices, initial=PanelMember.Role.MEMBER)
    term_starts_on = forms.DateField(widget=DateInput())
    term_ends_on = forms.DateField(widget=DateInput(), required=False)
    vetted_on = forms.DateField(widget=DateInput(), required=False, label="Vetted on")
    trained_on = forms.DateField(widget=DateInput(), required=False, label="Trained on")

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        # The force's panel-member logins not yet on the panel (create_role_user makes them).
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(groups__name=Role.PANEL_MEMBER, force_scope__force=panel.force)
            .exclude(panel_memberships__panel=panel)
            .order_by("username")
        )


class NewMemberForm(forms.Form):
    """A new panel member: their login is created with the membership."""

    username = forms.CharField(max_length=150)
    email = forms.EmailField(help_text="The member sets their password from “Forgotten your password?” with it.")
    role = forms.ChoiceField(choices=PanelMember.Role.choices, initial=PanelMember.Role.MEMBER)
    term_starts_on = forms.DateField(widget=DateInput())
    term_ends_on = forms.DateField(widget=DateInput(), required=False)
    vetted_on = forms.DateField(widget=DateInput(), required=False, label="Vetted on")
    trained_on = forms.DateField(widget=DateInput(), required=False, label="Trained on")


class MemberUpdateForm(forms.Form):
    role = forms.ChoiceField(choices=PanelMember.Role.choices)
    term_ends_on = forms.DateField(widget=DateInput(), required=False)
    vetted_on = forms.DateField(widget=DateInput(), required=False, label="Vetted on")
    trained_on = forms.DateField(widget=DateInput(), required=False, label="Trained on")


class MeetingForm(forms.Form):
    held_on = forms.DateField(widget=DateInput(), label="Meeting on")
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    agenda = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)


class SampleForm(forms.Form):
    rule = forms.ChoiceField(choices=[c for c in CaseSample.Rule.choices if c[0] != CaseSample.Rule.CHAIR_CHOICE])
    starts_on = forms.DateField(widget=DateInput(), label="Period from")
    ends_on = forms.DateField(widget=DateInput(), label="Period to")
    percent = forms.IntegerField(
        min_value=1, max_value=100, required=False, help_text="Random share: per cent of each stratum (rounded up)."
    )
    strata = forms.ChoiceField(
        choices=[(key, f"by {key}") for key in STRATA], required=False, initial="area", help_text="Random share only."
    )
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False, help_text="Area focus only.")
    limit = forms.IntegerField(
        min_value=1, required=False, help_text="Area focus: at most this many, chosen at random (empty: all)."
    )
    seed = forms.IntegerField(
        min_value=0, required=False, help_text="Empty for a new random seed; give one to repeat an earlier draw."
    )
    include_sampled = forms.BooleanField(
        required=False, label="Include reports sampled before",
        help_text="Otherwise reports the panel has reviewed, or holds in another sample, are left out.",
    )  # fmt: skip

    def __init__(self, *args, force, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["area"].queryset = Area.objects.filter(force=force).order_by("name")

    def clean(self):
        cleaned = super().clean()
        rule = cleaned.get("rule")
        if rule == CaseSample.Rule.RANDOM_NON_DISCHARGE and not cleaned.get("percent"):
            self.add_error("percent", "A random share needs its per cent.")
        if rule == CaseSample.Rule.AREA_FOCUS and not cleaned.get("area"):
            self.add_error("area", "An area focus needs its area.")
        return cleaned

    def parameters(self):
        data = self.cleaned_data
        parameters = {"include_sampled": data["include_sampled"]}
        if data["rule"] == CaseSample.Rule.RANDOM_NON_DISCHARGE:
            return parameters | {"percent": data["percent"], "strata": data["strata"] or "area"}
        if data["rule"] == CaseSample.Rule.AREA_FOCUS:
            return parameters | {"area": data["area"].pk, "limit": data["limit"]}
        return parameters


class ChairCaseForm(forms.Form):
    report = forms.IntegerField(min_value=1, label="Report number")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), label="Why the panel should review it")
    again = forms.BooleanField(
        required=False, label="Add it again", help_text="Only for a report the panel has reviewed or sampled before."
    )


class ClipForm(forms.Form):
    system = forms.CharField(max_length=80, label="Evidence system", help_text="e.g. the force's DEMS")
    clip_id = forms.CharField(max_length=120, label="Clip id")
    starts_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Starts")
    ends_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="Ends")
    link = forms.URLField(
        required=False, max_length=500, assume_scheme="https", help_text="Only a link the system gives"
    )
    link_expires_at = forms.DateTimeField(
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), required=False, label="Link expires"
    )


class OfficerAccountForm(forms.Form):
    account = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="The officer's account")
    supplied_on = forms.DateField(widget=DateInput(), label="Supplied by the force on")


class ViewingForm(forms.Form):
    clip = forms.IntegerField(widget=forms.HiddenInput())
    watched = forms.ChoiceField(choices=FootageViewing.Watched.choices, widget=forms.RadioSelect)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, label="What you watched")


class ReviewForm(forms.Form):
    """One question a line of the panel's rubric, with a comment on each, the grade and the learning points."""

    learning_points = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = panel.questions
        for index, question in enumerate(self.questions):
            self.fields[f"q{index}"] = forms.ChoiceField(
                label=question, choices=ANSWERS, widget=forms.RadioSelect, required=False
            )
            self.fields[f"c{index}"] = forms.CharField(
                label="Comment", required=False, widget=forms.TextInput(attrs={"aria-label": f"Comment: {question}"})
            )
        self.grades_from_checklist = panel.grading_scale == Panel.Scale.LJP
        if not self.grades_from_checklist:
            self.fields["grade"] = forms.ChoiceField(
                choices=[(grade, grade) for grade in panel.grades], widget=forms.RadioSelect, required=False
            )
        questions = [name for i in range(len(self.questions)) for name in (f"q{i}", f"c{i}")]
        self.order_fields([*questions, "grade", "learning_points"])

    @classmethod
    def initial_from(cls, review, panel):
        if review is None:
            return {}
        initial = {f"q{i}": review.rubric_answers.get(q, "") for i, q in enumerate(panel.questions)}
        initial |= {f"c{i}": review.rubric_comments.get(q, "") for i, q in enumerate(panel.questions)}
        return initial | {"grade": review.grade, "learning_points": review.learning_points}

    def answers(self):
        return {question: self.cleaned_data[f"q{i}"] for i, question in enumerate(self.questions)}

    def comments(self):
        return {question: self.cleaned_data[f"c{i}"] for i, question in enumerate(self.questions)}

    def question_fields(self):
        return [(self[f"q{i}"], self[f"c{i}"]) for i in range(len(self.questions))]


class FindingForm(forms.Form):
    panel_grade = forms.ChoiceField(label="The panel's grade", widget=forms.RadioSelect)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), label="The panel's finding")
    themes = forms.MultipleChoiceField(
        choices=Finding.Theme.choices, widget=forms.CheckboxSelectMultiple, required=False
    )
    for_force_feedback = forms.BooleanField(required=False, label="Send to the force for feedback")

    def __init__(self, *args, panel, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["panel_grade"].choices = [(grade, grade) for grade in panel.grades]


class ResponseForm(forms.Form):
    position = forms.ChoiceField(choices=ForceResponse.Position.choices, widget=forms.RadioSelect,
                                 label="The force's position on the finding")  # fmt: skip
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label="The force's response")


class ActionForm(forms.Form):
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label="What is to be done")
    owner = forms.CharField(max_length=120, help_text="Who at the force or PCC office owns it")
    due_on = forms.DateField(widget=DateInput(), label="Due on")


class ActionUpdateForm(forms.Form):
    status = forms.ChoiceField()
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False)
    evidence = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, help_text="Needed to close: what shows it is done."
    )

    def __init__(self, *args, action, **kwargs):
        super().__init__(*args, **kwargs)
        statuses = [action.status, *NEXT_STATUSES[Action.Status(action.status)]]
        self.fields["status"].choices = [(status, Action.Status(status).label) for status in statuses]
        self.fields["status"].initial = action.status
