import datetime

from django import forms

from forces.models import ApiToken, Area, Force
from incidents.models import MonthlySummary
from incidents.queries import period_start
from incidents.services import quarter_label


class QuarterlyReportForm(forms.Form):
    """Which quarter (one the force has summaries for) and, optionally, which area."""

    quarter = forms.TypedChoiceField(coerce=datetime.date.fromisoformat)
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False, empty_label="The whole force")

    def __init__(self, *args, force, **kwargs):
        super().__init__(*args, **kwargs)
        months = MonthlySummary.objects.filter(force=force).values_list("month", flat=True).distinct()
        quarters = sorted({period_start(month, "quarter") for month in months}, reverse=True)
        self.fields["quarter"].choices = [(q.isoformat(), quarter_label(q)) for q in quarters]
        self.fields["area"].queryset = Area.objects.filter(force=force).order_by("name")


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=80, help_text="What the token is for, e.g. the script that uses it")
    access = forms.ChoiceField(choices=ApiToken.Access.choices, initial=ApiToken.Access.READ, widget=forms.RadioSelect)
    force = forms.ModelChoiceField(queryset=Force.objects.order_by("name"), help_text="The force the token reads")

    def __init__(self, *args, own_force=None, **kwargs):
        super().__init__(*args, **kwargs)
        # Everyone but a superuser makes tokens for their own force only.
        if own_force is not None:
            del self.fields["force"]
        self.own_force = own_force

    def clean(self):
        cleaned = super().clean()
        if self.own_force is not None:
            cleaned["force"] = self.own_force
        return cleaned
