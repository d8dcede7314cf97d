import datetime

from django import forms

from forces.models import Area
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
