import datetime

from django import forms

from forces.models import Area
from incidents.models import MonthlySummary
from incidents.services import quarter_label, quarter_of


class QuarterlyReportForm(forms.Form):
    """Which quarter (one the force has summaries for) and, optionally, which area."""

    quarter = forms.TypedChoiceField(coerce=datetime.date.fromisoformat)
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False, empty_label="The whole force")

    def __init__(self, *args, force, **kwargs):
        super().__init__(*args, **kwargs)
        months = MonthlySummary.objects.filter(force=force).values_list("month", flat=True).distinct()
        quarters = sorted({quarter_of(month) for month in months}, reverse=True)
        self.fields["quarter"].choices = [(q.isoformat(), quarter_label(q)) for q in quarters]
        self.fields["area"].queryset = Area.objects.filter(force=force).order_by("name")
