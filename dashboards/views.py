"""The pages that combine the apps: force and area dashboards, reconciliation, quarterly reports, comparisons,
public pages and a report with its scrutiny history."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_http_methods, require_safe

from dashboards import tasks
from dashboards.cache import by_figures_version, shared_figures
from dashboards.charts import UNIT_LABELS, category_sets, headline
from dashboards.forms import DashboardFilterForm, QuarterlyReportForm
from dashboards.queries import (
    NOTABLE_DIFFERENCE,
    NOTABLE_PERCENT,
    public_areas,
    public_disproportionality,
    published_with_rates,
    reconciliation,
    report_vocabularies,
)
from dashboards.services import quarterly_report_rows
from forces import charts as force_charts
from forces import queries as forces_queries
from forces.models import Area, Force, Role
from forces.queries import forces_for_home
from forces.roles import DASHBOARD_ROLES, MEMBER_ROLES, PCC_ROLES, RECORD_ROLES, force_of, may, role_of, role_required
from incidents import charts as incident_charts
from incidents import disclosure
from incidents import queries as incident_queries
from incidents.models import Alert, OfficerInjury, QuarterlyReport, SubjectInjury
from incidents.queries import reports_visible_to
from oversight.charts import SUPPRESSED
from oversight.numbers import share
from oversight.police_calendar import (
    financial_year_dates,
    financial_year_label,
    financial_year_name,
    financial_years,
    months_back,
    quarter_label,
    quarter_start,
)
from oversight.spreadsheets import csv_response
from scrutiny import charts as scrutiny_charts
from scrutiny import queries as scrutiny_queries
from scrutiny.queries import member_case_of_report, sample_history

# The force pages of aggregates are for PCC staff, force data officers and superusers (role_required on each).
DASHBOARDS_ARE_FOR = "The force dashboards are for PCC staff and force data officers."


def dashboard_force(request, force_id):
    """The force of a dashboard page, once role_required let the user in: each sees their own force only,
    since another force's small cells are as private as its records (its public page shows them suppressed)."""
    force = get_object_or_404(Force, pk=force_id)
    if not request.user.is_superuser and force_of(request.user) != force:
        raise PermissionDenied(
            f"Your account is for {force_of(request.user)}; {force}'s figures are on its public page."
        )
    return force


@require_safe
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
@by_figures_version(of_force=True)
def force_dashboard(request, force_id, area_code=None):
    """The force's (or one area's) Taser use for a period, every figure a chart with its table and CSV.

    The figures (and a chart's CSV) are made once for everyone who sees them alike (shared_figures); the
    page around them, with the user's name and form token, for each request.
    """
    force = dashboard_force(request, force_id)
    fixed_area = get_object_or_404(Area, force=force, code=area_code) if area_code else None
    may_drill = may(request.user, RECORD_ROLES)
    if request.GET.get("format") == "csv":
        table = shared_figures(
            request, "dashboard csv", lambda: dashboard_csv(request.GET, force, fixed_area, drill=may_drill),
            force_id=force.pk,
        )  # fmt: skip
        if table is not None:  # else nothing is summarised yet: the page says so
            return csv_response(*table)
    # What the figures show a user depends on their role only: whether they may open the reports behind them
    # and follow the actions tracker (PCC staff).
    track_actions = request.user.is_superuser or role_of(request.user) == Role.PCC_STAFF
    figures = shared_figures(
        request, "dashboard figures",
        lambda: dashboard_figures(request.GET, force, fixed_area, drill=may_drill, track_actions=track_actions),
        force_id=force.pk,
    )  # fmt: skip
    return render(request, "dashboards/dashboard.html", {"force": force, **figures})


def dashboard_period(params, force, fixed_area):
    """(filter form, the force's areas, the form's choice) of the page, or None before any summary."""
    first, last = incident_queries.summary_months(force=force)
    if last is None:
        return None
    areas = list(force.areas.order_by("name"))
    choices = params.copy()
    if fixed_area:  # the area page is the dashboard with its area chosen
        choices["area"] = fixed_area.code
    form = DashboardFilterForm(choices or None, first_month=first, last_month=last, areas=areas)
    return form, areas, form.choice()


def dashboard_csv(params, force, fixed_area, *, drill):
    """(file name, columns, rows) of the chart asked for in ?chart=, as dashboard_figures draws it; None before
    any summary."""
    version, _ = incident_queries.summaries_as_of(force=force)
    chosen = dashboard_period(params, force, fixed_area)
    if chosen is None:
        return None
    _, _, (start, end, _, area, unit, sort) = chosen
    summaries = incident_queries.PeriodSummaries(force=force, start=start, end=end, area=area)
    chart = chart_of(dashboard_charts(summaries, area=area, unit=unit, sort=sort, drill=drill), params.get("chart", ""))
    name = f"{force.pk}{'-' + area.code if area else ''}-v{version}-{chart.key}.csv"
    return name, chart.table.columns, chart.table.rows


def dashboard_figures(params, force, fixed_area, *, drill, track_actions):
    """The page's figures: {"area": the area shown or None, "figures": their HTML, "has_charts"}.

    Rendered without the request: nothing of the user who asked is in them, since others are shown them too.
    """
    version, built_at = incident_queries.summaries_as_of(force=force)
    context = {"force": force, "area": fixed_area, "data_version": version, "built_at": built_at}
    context["lag"] = incident_queries.summary_lag(force=force)
    chosen = dashboard_period(params, force, fixed_area)
    if chosen is not None:
        form, areas, (start, end, period_label, area, unit, sort) = chosen
        summaries = incident_queries.PeriodSummaries(force=force, start=start, end=end, area=area)
        totals = summaries.totals
        alerts = Alert.objects.filter(force=force, month__gte=start, month__lt=end).select_related("area")
        context.update(
            {
                "form": form, "area": area, "areas": areas, "period_label": period_label, "unit": unit, "sort": sort,
                "charts": dashboard_charts(summaries, area=area, unit=unit, sort=sort, drill=drill),
                "headline": headline(totals, unit), "unit_label": UNIT_LABELS[unit],
                "alerts": (alerts.filter(area=area) if area else alerts).order_by("-month", "kind")[:20],
                "not_stated": incident_queries.not_stated_shares(totals),
                "actions": scrutiny_queries.action_counts(force=force), "track_actions": track_actions,
                "query": params.urlencode(), "sorts": DashboardFilterForm.SORTS,
                "sort_params": [(key, value) for key, value in params.items() if key != "sort"],
                # The reports behind the page, for those who may open them: a way in without pointing at a bar.
                "reports_query": drill and incident_charts.drill_query(
                    {"area": area.code} if area else {}, **incident_charts.month_range(start, end), ced_used="true"
                ),
            }
        )  # fmt: skip
    figures = render_to_string("dashboards/dashboard_figures.html", context)
    return {"area": context["area"], "figures": figures, "has_charts": bool(context.get("charts"))}


def dashboard_charts(summaries, *, area, unit, sort, drill):
    """Every chart of the force dashboard (the area page without the areas chart), from a period's summaries.

    drill: whether the reader may open the reports behind a bar.
    """
    force, start, end, totals = summaries.force, summaries.start, summaries.end, summaries.totals
    period = incident_charts.month_range(start, end)
    place = {"area": area.code} if area else {}
    over_time = place if drill else None
    filtered = {**place, **period} if drill else None
    months = summaries.by_period()
    taser = totals["taser_reports"]
    charts = [incident_charts.use_over_time(months, unit=unit, drill=over_time)]
    if area is None:
        rates = incident_queries.area_rates(
            force=force, start=start, end=end, measure=incident_charts.measure("taser_reports", unit),
            by_area=summaries.by_area,
        )  # fmt: skip
        charts.append(incident_charts.use_by_area(rates, unit=unit, sort=sort, drill=filtered))
    disproportionality = incident_queries.disproportionality(
        force=force, start=start, end=end, area=area, totals=totals
    )
    charts.append(incident_charts.disproportionality(disproportionality, drill=filtered))
    for key, title, categories, multi in category_sets(report_vocabularies()):
        charts.append(
            incident_charts.breakdown(
                key=key, title=title, categories=categories, totals=totals, taser_total=taser, multi=multi,
                rules="categories", drill=filtered,
            )
        )  # fmt: skip
    charts.append(
        incident_charts.injuries(
            subject=[(label, totals[f"subject_injury_{value}"]) for value, label in SubjectInjury.choices],
            officer=[(label, totals[f"officer_injury_{value}"]) for value, label in OfficerInjury.choices],
            taser_total=taser,
        )
    )
    charts.append(incident_charts.cycles_and_video(months))
    capability = forces_queries.capability_by_month(force=force, months=[row["period_start"] for row in months])
    uses = incident_charts.measure("taser_reports", unit)
    charts.append(
        force_charts.capability(
            [
                {"month": month, "uses": row[uses], "devices": devices, "officers": officers}
                for row, (month, devices, officers) in zip(months, capability, strict=True)
            ],
            unit=unit,
        )
    )
    findings, grades = scrutiny_queries.findings_by_quarter(force=force, start=start, end=end, area=area)
    quarters = {}
    quarter = quarter_start(start)
    while quarter < end:
        quarters[quarter] = quarter_label(quarter)
        quarter = months_back(quarter, -3)
    charts.append(scrutiny_charts.findings_by_grade(findings, grades=grades, quarter_labels=quarters))
    return charts


def chart_of(charts, key):
    """The chart of `key` among `charts`; 404 if the page has none."""
    chart = next((chart for chart in charts if chart.key == key), None)
    if chart is None:
        raise Http404(f"No chart {key!r} on this page.")
    return chart


def chart_csv(request, charts, name):
    """One chart's table as CSV: exactly what the chart plots, for the same filters."""
    chart = chart_of(charts, request.GET.get("chart", ""))
    return csv_response(f"{name}-{chart.key}.csv", chart.table.columns, chart.table.rows)


@require_safe
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
def force_reconciliation(request, force_id):
    force = dashboard_force(request, force_id)
    product_counts = incident_queries.reports_by_financial_year_and_level(force=force)
    context = {
        "force": force,
        "years": reconciliation(force=force, product_counts=product_counts),
        "other_periods": forces_queries.published_periods_besides_financial_years(force=force),
        "data_version": incident_queries.data_version(force=force),
        "unit": incident_queries.UNIT_OF_COUNT,
        "notable_difference": NOTABLE_DIFFERENCE,
        "notable_percent": NOTABLE_PERCENT,
    }
    return render(request, "dashboards/reconciliation.html", context)


# --- quarterly PCC reports ----------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
def quarterly_reports(request, force_id):
    """The force's quarterly report snapshots; PCC staff build one on demand."""
    force = dashboard_force(request, force_id)
    may_build = may(request.user, PCC_ROLES)
    form = QuarterlyReportForm(request.POST or None, force=force)
    if request.method == "POST":
        if not may_build:
            raise PermissionDenied("PCC staff build quarterly reports.")
        if form.is_valid():
            quarter, area = form.cleaned_data["quarter"], form.cleaned_data["area"]
            transaction.on_commit(
                lambda: tasks.build_quarterly_report.delay(force.pk, quarter.isoformat(), area and area.pk),
                robust=True,  # a queue that does not answer is logged; the page still answers
            )
            messages.success(request, "The report is being built; it appears below when ready.")
            return redirect("quarterly-reports", force.pk)
    reports = QuarterlyReport.objects.filter(force=force).select_related("area")
    return render(
        request, "dashboards/quarterly_reports.html",
        {"force": force, "reports": reports, "form": form, "may_build": may_build,
         "lag": incident_queries.summary_lag(force=force)},
    )  # fmt: skip


@require_safe
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
def quarterly_report(request, force_id, pk):
    dashboard_force(request, force_id)
    report = get_object_or_404(QuarterlyReport.objects.select_related("force", "area"), force_id=force_id, pk=pk)
    if request.GET.get("format") == "csv":
        name = f"{report.force_id}-{report.quarter:%Y-%m}-v{report.data_version}.csv"
        return csv_response(name, ["section", "measure", "column", "value"], quarterly_report_rows(report))
    context = {
        "report": report, "figures": report.figures, "lag": incident_queries.summary_lag(force=report.force),
        "area_rate_per": area_rate_per(report.figures),
    }  # fmt: skip
    return render(request, "dashboards/quarterly_report.html", context)


def area_rate_per(figures):
    """The residents an area's rate is per in a kept report: 1,000, or 10,000 in one built before every rate was
    per 1,000 (a kept report is never rewritten)."""
    return 10_000 if any("rate_per_10000" in row for row in figures.get("areas", [])) else 1_000


# --- comparisons -----------------------------------------------------------------------------


def financial_year_choice(request, years):
    """The financial year (its start) asked for in ?year=, else the latest of `years` (starts, newest first)."""
    asked = request.GET.get("year", "")
    chosen = next((year for year in years if str(year.year) == asked), None)
    return chosen or years[0]


@require_safe
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
@by_figures_version(of_force=False)
def area_comparison(request, force_id):
    """The force's areas side by side for a financial year, with the force and England and Wales as references."""
    force = dashboard_force(request, force_id)
    version, built_at = incident_queries.summaries_as_of(force=force)
    first, last = incident_queries.summary_months(force=force)
    context = {"force": force, "data_version": version, "built_at": built_at, "charts": []}
    context["lag"] = incident_queries.summary_lag(force=force)
    if last is None:
        return render(request, "dashboards/area_comparison.html", context)
    years = financial_years(first, last)
    start = financial_year_choice(request, years)
    end = months_back(start, -12)
    residents = incident_queries.residents_by_area(force_ids=[force.pk])
    rows = [
        {
            "name": row["area__name"] or "No area recorded", "reports": row["taser_reports"],
            "fired": row["level_fired"], "population": residents.get(row["area"], {}).get("total"),
        }
        for row in incident_queries.summaries_by_area(force=force, start=start, end=end)
    ]  # fmt: skip
    for row in rows:
        row["rate_per_1000"] = incident_queries.rate_per(row["reports"], row["population"], 1_000)
    with_population = [row for row in rows if row["population"]]
    force_rate = incident_queries.rate_per(
        sum(row["reports"] for row in with_population), sum(row["population"] for row in with_population), 1_000
    )
    national = forces_queries.published_figures_of_year(financial_year=financial_year_label(start.year)).get(None, {})
    everyone = incident_queries.residents_by_force(incident_queries.residents_by_area())
    # England and Wales residents are known only when every territorial force has its baseline.
    territorial = Force.objects.exclude(pk="btp").count()
    national_population = sum(r["total"] for r in everyone.values()) if len(everyone) >= territorial else None
    chart = force_charts.area_comparison(
        rows,
        force_rate=force_rate,
        force_fired_share=share(sum(r["fired"] for r in rows), sum(r["reports"] for r in rows)),
        national_rate=incident_queries.rate_per(national.get("ced_total"), national_population, 1_000),
        national_fired_share=share(national.get("ced_fired"), national.get("ced_total")),
        year_label=financial_year_name(start, last),
    )
    if request.GET.get("format") == "csv":
        return chart_csv(request, [chart], f"{force.pk}-areas-{start.year}-v{version}")
    context.update(
        {
            "charts": [chart], "years": [(y.year, financial_year_name(y, last)) for y in years], "year": start.year,
            "query": request.GET.urlencode(), "has_national": bool(national), "areas": force.areas.order_by("name"),
        }
    )  # fmt: skip
    return render(request, "dashboards/area_comparison.html", context)


@require_safe
@login_required
@role_required(DASHBOARD_ROLES, DASHBOARDS_ARE_FOR)
@by_figures_version(of_force=False)
def compare(request):
    """Forces side by side for a financial year: Home Office published figures beside our own summaries."""
    years = {financial_year_dates(int(label[:4]))[0] for label in forces_queries.published_years()}
    summary_years = incident_queries.summary_financial_years()
    years = sorted(years | set(summary_years), reverse=True)
    context = {"charts": [], "data_version": None, "built_at": None, "lags": incident_queries.summary_lags()}
    if not years:
        return render(request, "dashboards/compare.html", context)
    start = financial_year_choice(request, years)
    end = months_back(start, -12)
    label = financial_year_label(start.year)
    published = forces_queries.published_figures_of_year(financial_year=label)
    ours = incident_queries.totals_by_force(start=start, end=end, measures=["taser_reports", "level_fired"])
    populations = incident_queries.residents_by_force(incident_queries.residents_by_area())
    own = None if request.user.is_superuser else force_of(request.user)
    rows = []
    for force in Force.objects.order_by("name"):
        counts = ours.get(force.pk)
        if counts and (own is not None and force != own):
            # Another force's counts are public figures: its suppressed family's cells of the year.
            family = disclosure.public_cells(force)
            counts = {
                name: SUPPRESSED if family.is_hidden(disclosure.FORCE_TOTAL, "financial_year", start, name) else n
                for name, n in counts.items()
            }
        row = {
            "name": force.name,
            "published_total": published.get(force.pk, {}).get("ced_total"),
            "published_fired": published.get(force.pk, {}).get("ced_fired"),
            "ours_total": counts["taser_reports"] if counts else None,
            "ours_fired": counts["level_fired"] if counts else None,
            "population": populations.get(force.pk, {}).get("total"),
        }
        if any(row[key] is not None for key in ("published_total", "ours_total")):
            rows.append(row)
    last = incident_queries.latest_summary_month()
    chart = force_charts.force_comparison(rows, year_label=financial_year_name(start, last))
    if request.GET.get("format") == "csv":
        return chart_csv(request, [chart], f"forces-{start.year}")
    context.update(
        {
            "charts": [chart], "years": [(y.year, financial_year_name(y, last)) for y in years], "year": start.year,
            "query": request.GET.urlencode(), "editions": forces_queries.editions_of_year(label),
            "year_label": label, "has_published": bool(published),
            "other_periods": forces_queries.published_periods_besides_financial_years(),
        }
    )  # fmt: skip
    return render(request, "dashboards/compare.html", context)


@require_safe
def counting_rules(request):
    """How every figure is counted: the page each chart's "How this is counted" links to."""
    return render(
        request,
        "dashboards/counting_rules.html",
        {"threshold": settings.SUPPRESSION_THRESHOLD, "unit": incident_queries.UNIT_OF_COUNT},
    )


# --- public transparency pages -------------------------------------------------------------------


@require_safe
@by_figures_version(of_force=False)
def public_index(request):
    """The forces whose Taser use the public can read here, and what the figures mean."""
    with_data = incident_queries.forces_with_summaries() | forces_queries.forces_with_published_figures()
    forces = [force for force in forces_for_home() if force.pk in with_data]
    return render(
        request,
        "dashboards/public_index.html",
        {
            "forces": forces, "threshold": settings.SUPPRESSION_THRESHOLD,
            "national": forces_queries.published_by_year(force=None),
        },
    )  # fmt: skip


@require_safe
@by_figures_version(of_force=True)
def public_force(request, force_id):
    """A force's Taser use as the public may see it: summaries only, small numbers suppressed."""
    force = get_object_or_404(Force, pk=force_id)
    version, built_at = incident_queries.summaries_as_of(force=force)
    first, last = incident_queries.summary_months(force=force)
    context = {
        "force": force, "data_version": version, "built_at": built_at, "charts": [],
        "threshold": settings.SUPPRESSION_THRESHOLD,
        "panel_summary": scrutiny_queries.public_panel_summary(force=force),
        "lag": incident_queries.summary_lag(force=force),
    }  # fmt: skip
    if last is None:
        # Most forces publish no record-level data: the Home Office's figures are all there is.
        context["published"] = published_with_rates(force)
        return render(request, "dashboards/public_force.html", context)
    years = financial_years(first, last)
    start = financial_year_choice(request, years)
    end = months_back(start, -12)
    totals = incident_queries.summary_totals(force=force, start=start, end=end)
    family = disclosure.public_cells(force)
    hidden = family.hidden_measures(disclosure.FORCE_TOTAL, "financial_year", start)
    headline = {
        name: None if name in hidden else totals[name]
        for name in ("reports", "taser_reports", "discharge", "level_fired")
    }
    quarters = [
        disclosure.hide_in_row(row, family.hidden_measures(disclosure.FORCE_TOTAL, "quarter", row["period_start"]))
        for row in incident_queries.summaries_by_period(force=force, period="quarter")
    ]
    charts = [
        incident_charts.use_over_time(quarters, per="quarter", through=last),
        incident_charts.use_by_area(public_areas(force, start, end, family)),
        incident_charts.disproportionality(public_disproportionality(force, start, end, hidden)),
    ]
    if request.GET.get("format") == "csv":
        return chart_csv(request, charts, f"{force.pk}-public-v{version}")
    context.update(
        {
            "charts": charts, "headline": headline, "years": [(y.year, financial_year_name(y, last)) for y in years],
            "year": start.year, "year_label": financial_year_name(start, last), "query": request.GET.urlencode(),
            "fired_share": None if hidden & {"taser_reports", "level_fired"} else share(
                totals["level_fired"], totals["taser_reports"]
            ),
        }
    )  # fmt: skip
    return render(request, "dashboards/public_force.html", context)


# --- a report with its scrutiny history ----------------------------------------------------


@require_safe
@login_required
def report_detail(request, pk):
    # Another force's report is "not found", never "forbidden": its existence is not shown.
    report = get_object_or_404(reports_visible_to(request.user).select_related("force", "area", "import_batch"), pk=pk)
    if role_of(request.user) in MEMBER_ROLES:
        # Members read a sampled report on its case page, which logs the view and hides the officer.
        return redirect("scrutiny-case", member_case_of_report(user=request.user, report_id=report.pk).pk)
    context = {
        "report": report,
        "ced_uses": report.ced_uses.all(),
        "samples": sample_history(user=request.user, report=report),
    }
    return render(request, "incidents/report_detail.html", context)
