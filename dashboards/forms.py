import datetime

from django import forms

from forces.models import Area
from incidents.models import MonthlySummary
from oversight.police_calendar import (
    FIRST_DAY,
    FIRST_MONTH,
    LAST_DAY,
    financial_year_span,
    financial_years,
    months_back,
    quarter_label,
    quarter_start,
)


class QuarterlyReportForm(forms.Form):
    """Which quarter (one the force has summaries for) and, optionally, which area."""

    quarter = forms.TypedChoiceField(coerce=datetime.date.fromisoformat)
    area = forms.ModelChoiceField(queryset=Area.objects.none(), required=False, empty_label="The whole force")

    def __init__(self, *args, force, **kwargs):
        super().__init__(*args, **kwargs)
        months = MonthlySummary.objects.filter(force=force).values_list("month", flat=True).distinct()
        quarters = sorted({quarter_start(month) for month in months}, reverse=True)
        self.fields["quarter"].choices = [(q.isoformat(), quarter_label(q)) for q in quarters]
        self.fields["area"].queryset = Area.objects.filter(force=force).order_by("name")


class DashboardFilterForm(forms.Form):
    """The dashboard's filter bar, read from the query string so a view can be shared and the back button works.

    A period preset (the last 12 months with data, a financial year or a quarter) or a custom range
    of months; the whole force or one area; reports or incidents. Anything it cannot read falls back
    to the default, with the reason shown.
    """

    UNITS = [("reports", "Reports (one officer's use of force on one person)"), ("incidents", "Incidents")]
    SORTS = [("count", "Most Taser use first"), ("rate", "Highest rate first"), ("name", "By name")]

    period = forms.ChoiceField(required=False)
    start = forms.CharField(required=False, label="From (month)", widget=forms.DateInput(attrs={"type": "month"}))
    end = forms.CharField(required=False, label="To (month)", widget=forms.DateInput(attrs={"type": "month"}))
    area = forms.ChoiceField(required=False)
    unit = forms.ChoiceField(choices=UNITS, required=False, label="Unit of count")
    sort = forms.ChoiceField(choices=SORTS, required=False, label="Order of areas")

    def __init__(self, data, *, first_month, last_month, areas):
        super().__init__(data)
        self.last_month = last_month
        presets = [("last12", f"The last 12 months (to {last_month:%B %Y})")]
        for year in financial_years(first_month, last_month):
            presets.append((f"fy{year.year}", f"Financial year {financial_year_span(year)}"))
        quarter = quarter_start(last_month)
        while quarter >= quarter_start(first_month):
            presets.append((f"q{quarter:%Y-%m}", quarter_label(quarter)))
            quarter = months_back(quarter, 3)
        presets.append(("custom", "Months chosen below"))
        self.fields["period"].choices = presets
        self.fields["area"].choices = [("", "The whole force"), *((area.code, area.name) for area in areas)]
        self.areas = {area.code: area for area in areas}

    def clean_start(self):
        return self._month("start")

    def clean_end(self):
        return self._month("end")

    def _month(self, name):
        text = self.cleaned_data.get(name) or ""
        if not text:
            return None
        try:
            month = datetime.date.fromisoformat(f"{text}-01")
        except ValueError:
            raise forms.ValidationError(f"{text!r} is not a month; write it as 2024-05.") from None
        if not FIRST_DAY <= month <= LAST_DAY:
            raise forms.ValidationError(f"{text!r} is outside {FIRST_DAY:%Y-%m} to {LAST_DAY:%Y-%m}.")
        return month

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The last month comes before the first.")
        return cleaned

    def choice(self):
        """(first month, end (exclusive), label, area or None, unit, sort), defaults for what is missing or wrong."""
        cleaned = self.cleaned_data if self.is_bound and self.is_valid() else {}
        start, end, label = self._range(cleaned)
        area = self.areas.get(cleaned.get("area") or "")
        return start, end, label, area, cleaned.get("unit") or "reports", cleaned.get("sort") or "count"

    def _range(self, cleaned):
        period = cleaned.get("period") or ""
        first, last = cleaned.get("start"), cleaned.get("end")
        if (period == "custom" or not period) and first and last:
            return first, months_back(last, -1), f"{first:%B %Y} to {last:%B %Y}"
        if period.startswith("fy"):
            start = datetime.date(int(period[2:]), FIRST_MONTH, 1)
            return start, months_back(start, -12), f"financial year {financial_year_span(start)}"
        if period.startswith("q"):
            start = datetime.date.fromisoformat(f"{period[1:]}-01")
            return start, months_back(start, -3), quarter_label(start)
        start = months_back(self.last_month, 11)
        return start, months_back(self.last_month, -1), f"the 12 months {start:%B %Y} to {self.last_month:%B %Y}"
