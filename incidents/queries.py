import datetime

from django.db.models import Case, Count, Max, Q, Value, When
from django.db.models.functions import ExtractYear

from forces.models import Role
from forces.queries import RECORD_ROLES, force_of, role_of
from incidents.models import DISCHARGE_LEVELS, CedLevel, ImportBatch, UseOfForceReport

UNIT_OF_COUNT = "reports (one officer's use of force on one person)"
# Who follows a force's imports, and who may upload them.
IMPORT_ROLES = {Role.PCC_STAFF, Role.FORCE_DATA_OFFICER}
UPLOAD_ROLES = {Role.FORCE_DATA_OFFICER}


def reports_visible_to(user):
    """The use-of-force reports a user may open, record by record."""
    reports = UseOfForceReport.objects.current()
    if user.is_superuser:
        return reports
    role = role_of(user)
    if role in RECORD_ROLES:
        force = force_of(user)
        return reports.filter(force=force) if force else reports.none()
    if role == Role.PANEL_MEMBER:
        # Members see only the reports sampled for a panel they sit on.
        return reports.filter(sampled_cases__sample__panel__members__user=user).distinct()
    return reports.none()


def latest_month(*, force):
    """First day of the month of the force's latest report, or None without reports."""
    latest = UseOfForceReport.objects.current().filter(force=force).aggregate(latest=Max("occurred_on"))["latest"]
    return latest.replace(day=1) if latest else None


def months_back(month, count):
    """First day of the month `count` months before `month`."""
    index = month.year * 12 + month.month - 1 - count
    return datetime.date(index // 12, index % 12 + 1, 1)


def ced_headline(*, force, start, end):
    """Reports and Taser reports by highest level for one force, start ≤ date < end."""
    reports = UseOfForceReport.objects.current().filter(force=force, occurred_on__gte=start, occurred_on__lt=end)
    by_level = {
        row["highest_ced_level"]: row["reports"]
        for row in reports.filter(ced_used=True).values("highest_ced_level").annotate(reports=Count("id"))
    }
    totals = reports.aggregate(
        reports=Count("id"),
        ced_reports=Count("id", filter=Q(ced_used=True)),
        discharge=Count("id", filter=Q(highest_ced_level__in=DISCHARGE_LEVELS)),
    )
    levels = [(level, by_level.get(level, 0)) for level in sorted(CedLevel, reverse=True)]
    return {**totals, "levels": levels, "start": start, "end": end, "unit": UNIT_OF_COUNT}


def data_version(*, force):
    """The force's current data version: that of its latest successful batch (0 = no data)."""
    batches = ImportBatch.objects.filter(force=force, status=ImportBatch.Status.SUCCEEDED)
    return batches.aggregate(version=Max("data_version"))["version"] or 0


def reports_by_financial_year_and_level(*, force):
    """Current reports of one force by financial year and highest CED level, in one GROUP BY query.

    Rows of {"year_start": 2019 (for 2019/20, 1 April 2019 – 31 March 2020), "highest_ced_level":
    a CedLevel, or None for a report without Taser, "reports": count}.
    """
    # January to March belong to the financial year that began the April before.
    year_start = ExtractYear("occurred_on") - Case(When(occurred_on__month__lt=4, then=Value(1)), default=Value(0))
    return (
        UseOfForceReport.objects.current()
        .filter(force=force)
        .annotate(year_start=year_start)
        .values("year_start", "highest_ced_level")
        .annotate(reports=Count("id"))
        .order_by("year_start", "highest_ced_level")
    )


def may_view_imports(user):
    return user.is_superuser or role_of(user) in IMPORT_ROLES


def may_upload(user):
    # A force data officer uploads for their own force only, so one without a force cannot.
    return user.is_superuser or (role_of(user) in UPLOAD_ROLES and force_of(user) is not None)


def batches_visible_to(user):
    """The import batches a user may follow, newest first: their own force's, or all for a superuser."""
    batches = ImportBatch.objects.select_related("force", "uploaded_by").order_by("-created_at", "-pk")
    if user.is_superuser:
        return batches
    force = force_of(user)
    return batches.filter(force=force) if force and role_of(user) in IMPORT_ROLES else batches.none()
