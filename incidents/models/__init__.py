"""The national use-of-force form: one report = one officer's use of force on one person.

Multi-select groups of the form (locations, impact factors, reasons, outcomes) are one
boolean column per option, so any of them counts with plain SQL aggregation on every
backend. Their columns share a prefix; `UseOfForceReport.options(prefix)` lists them.

The reports, their devices and imports are in `reports`; the monthly summaries built from them, the
alerts, retention runs and quarterly reports in `summaries`. Every model, and the ladder the
reports count by, is importable from here.
"""

from incidents.ladder import (
    DISCHARGE_LEVELS,
    LADDER,
    LADDER_FLAGS,
    NON_DISCHARGE_LEVELS,
    CedLevel,
    highest_level,
    highest_level_of,
)
from incidents.models.disclosure import PublicFamily
from incidents.models.reports import (
    CURRENT,
    INTEGRITY_RULES,
    LOCATION_GROUPS,
    VALUE_INDEXES,
    AgeBand,
    CedUse,
    Conduct,
    Ethnicity,
    Gender,
    HealthCondition,
    ImportBatch,
    LadderFlags,
    OfficerInjury,
    ReportQuerySet,
    SubjectInjury,
    UseOfForceReport,
    YesNoNotStated,
)
from incidents.models.summaries import (
    INCIDENT_MEASURES,
    SUMMARY_MEASURES,
    Alert,
    MonthlySummary,
    QuarterlyReport,
    RetentionRun,
)

__all__ = [
    "CURRENT",
    "CedLevel",
    "DISCHARGE_LEVELS",
    "LADDER",
    "LADDER_FLAGS",
    "NON_DISCHARGE_LEVELS",
    "highest_level",
    "highest_level_of",
    "AgeBand",
    "Alert",
    "CedUse",
    "Conduct",
    "Ethnicity",
    "Gender",
    "HealthCondition",
    "INCIDENT_MEASURES",
    "INTEGRITY_RULES",
    "ImportBatch",
    "LOCATION_GROUPS",
    "VALUE_INDEXES",
    "LadderFlags",
    "MonthlySummary",
    "OfficerInjury",
    "PublicFamily",
    "QuarterlyReport",
    "ReportQuerySet",
    "RetentionRun",
    "SUMMARY_MEASURES",
    "SubjectInjury",
    "UseOfForceReport",
    "YesNoNotStated",
]
