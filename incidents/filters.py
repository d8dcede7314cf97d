"""The report list's filters, shared by the reports API and the report list page (the dashboards' drill-down)."""

import copy

import django_filters
from django.db.models import Exists, OuterRef, Q

from forces.models import Area
from incidents.models import (
    DISCHARGE_LEVELS,
    LOCATION_GROUPS,
    NON_DISCHARGE_LEVELS,
    AgeBand,
    CedLevel,
    CedUse,
    Ethnicity,
    Gender,
    HealthCondition,
    OfficerInjury,
    SubjectInjury,
    UseOfForceReport,
    YesNoNotStated,
)

LEVEL_NAMES = {level: level.name.lower() for level in CedLevel}
LEVELS_BY_NAME = {name: level for level, name in LEVEL_NAMES.items()}
CED_LEVEL_NAMES = list(LEVELS_BY_NAME)  # one enum in the schema (SPECTACULAR_SETTINGS)
LOCATION_GROUP_NAMES = {group.lower().replace(" ", "_"): flags for group, flags in LOCATION_GROUPS.items()}
# Multi-select groups of the form, as lists of the options ticked: (list name, column prefix).
OPTION_LISTS = (
    ("locations", "location_"),
    ("impact_factors", "impact_"),
    ("reasons", "reason_"),
    ("outcomes", "outcome_"),
)
OPTIONS = {name: UseOfForceReport.options(prefix) for name, prefix in OPTION_LISTS}
GROUP_LEVELS = {"discharge": DISCHARGE_LEVELS, "non_discharge": NON_DISCHARGE_LEVELS}
OUTCOME_NAMES = [column.removeprefix("outcome_") for column, _ in OPTIONS["outcomes"]]


def option_choices(list_name, prefix):
    return [(column.removeprefix(prefix), label) for column, label in OPTIONS[list_name]]


class SharedChoices:
    """A filter whose per-request copy shares its choices, which never change.

    django-filter deep-copies every filter for each request; with the choice lists below that
    was a tenth of a page's time (0.31 of 3.2 s for 50 pages, profiled).
    """

    def __deepcopy__(self, memo):
        clone = copy.copy(self)
        clone.extra = dict(self.extra)
        clone.method = self.method  # binds the filter method to the copy, as a deep copy would
        return clone


class ChoiceFilter(SharedChoices, django_filters.ChoiceFilter):
    pass


class MultipleChoiceFilter(SharedChoices, django_filters.MultipleChoiceFilter):
    """Several values of one column, without django-filter's default `SELECT DISTINCT`.

    DISTINCT guards against a join to many rows duplicating a report; the filters here read the
    report's own columns (or its one area), which cannot, and a filter over the CED uses asks
    `EXISTS` instead of joining them. With DISTINCT over every column PostgreSQL cannot read a
    page off the (force, occurred_on, id) index and stop: it read and sorted a whole Met month
    (55,740 reports, 282-434 ms) for 101 rows, which without it take 11-14 ms.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("distinct", False)
        super().__init__(*args, **kwargs)


class ReportFilter(django_filters.FilterSet):
    """Every filter the dashboards offer. Several values of one filter match any of them."""

    date_from = django_filters.DateFilter(field_name="occurred_on", lookup_expr="gte", label="On or after (YYYY-MM-DD)")
    date_to = django_filters.DateFilter(field_name="occurred_on", lookup_expr="lte", label="On or before (YYYY-MM-DD)")
    area = django_filters.CharFilter(method="filter_area", label="Area code")
    highest_level = MultipleChoiceFilter(
        choices=[(name, level.label) for name, level in LEVELS_BY_NAME.items()],
        method="filter_highest_level", label="Highest CED level",
    )  # fmt: skip
    discharge_group = ChoiceFilter(
        choices=[("discharge", "Discharge"), ("non_discharge", "Non-discharge"), ("no_taser", "No Taser used")],
        method="filter_discharge_group", label="Discharge group of the highest level",
    )  # fmt: skip
    ethnicity = MultipleChoiceFilter(field_name="subject_ethnicity", choices=Ethnicity.choices)
    age_band = MultipleChoiceFilter(field_name="subject_age", choices=AgeBand.choices)
    gender = MultipleChoiceFilter(field_name="subject_gender", choices=Gender.choices)
    health_condition = MultipleChoiceFilter(field_name="subject_health", choices=HealthCondition.choices)
    outcome = MultipleChoiceFilter(
        choices=option_choices("outcomes", "outcome_"), method="filter_outcome", label="Outcome"
    )
    location_group = MultipleChoiceFilter(
        choices=[(name, name.replace("_", " ").capitalize()) for name in LOCATION_GROUP_NAMES],
        method="filter_location_group", label="Location group",
    )  # fmt: skip
    reason = MultipleChoiceFilter(choices=option_choices("reasons", "reason_"), method="filter_ticked", label="Reason")
    impact_factor = MultipleChoiceFilter(
        choices=option_choices("impact_factors", "impact_"), method="filter_ticked", label="Impact factor"
    )
    subject_injury = MultipleChoiceFilter(field_name="subject_injury", choices=SubjectInjury.choices)
    officer_injury = MultipleChoiceFilter(field_name="officer_injury", choices=OfficerInjury.choices)
    body_worn_video = ChoiceFilter(choices=YesNoNotStated.choices)
    extended_cycle = django_filters.BooleanFilter(
        method="filter_extended_cycle", label="A device cycle extended beyond 5 seconds"
    )
    ced_used = django_filters.BooleanFilter()

    class Meta:
        model = UseOfForceReport
        fields = []

    def filter_area(self, reports, name, value):
        # By the area's id, not a join on its code: the planner, knowing which area, reads the area's own
        # date index, where the join made it walk the force's (18,434 reports for a page of 51 at 5,000,000).
        return reports.filter(area_id__in=list(Area.objects.filter(code=value).values_list("pk", flat=True)))

    def filter_queryset(self, queryset):
        cleaned = self.form.cleaned_data
        levels, group = cleaned.get("highest_level"), cleaned.get("discharge_group")
        if levels and group:
            # Both limit the highest level. As two conditions on the column the planner takes them for
            # independent and expects a hundred reports where thousands match (a page of fired discharges read
            # and sorted all 14,287, 64-99 ms); as one, the levels asked that are of the group, it reads the
            # page straight off the levels' index.
            of_group = [name for name in levels if LEVELS_BY_NAME[name] in GROUP_LEVELS.get(group, ())]
            if not of_group:
                return queryset.none()
            cleaned = cleaned | {"highest_level": of_group, "discharge_group": ""}
        for name, value in cleaned.items():
            queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_highest_level(self, reports, name, value):
        return reports.filter(highest_ced_level__in=[LEVELS_BY_NAME[v] for v in value]) if value else reports

    def filter_discharge_group(self, reports, name, value):
        if value == "no_taser":
            return reports.filter(ced_used=False)
        return reports.filter(highest_ced_level__in=GROUP_LEVELS[value])

    def filter_outcome(self, reports, name, value):
        return reports.filter(any_true(f"outcome_{v}" for v in value)) if value else reports

    def filter_ticked(self, reports, name, value):
        prefix = {"reason": "reason_", "impact_factor": "impact_"}[name]
        return reports.filter(any_true(f"{prefix}{v}" for v in value)) if value else reports

    def filter_extended_cycle(self, reports, name, value):
        extended = Exists(CedUse.objects.filter(report=OuterRef("pk"), cycle_extended=True))
        return reports.filter(extended if value else ~extended)

    def filter_location_group(self, reports, name, value):
        return reports.filter(any_true(f for v in value for f in LOCATION_GROUP_NAMES[v])) if value else reports


# `from` and `to` are Python keywords, so the filters are declared under other names.
ReportFilter.base_filters["from"] = ReportFilter.base_filters.pop("date_from")
ReportFilter.base_filters["to"] = ReportFilter.base_filters.pop("date_to")


def any_true(columns):
    condition = Q()
    for column in columns:
        condition |= Q(**{column: True})
    return condition
