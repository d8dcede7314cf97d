"""An outsider's attack on a force's public figures, and the proof that it finds nothing.

The attacker fetches, through the test client as anyone could, everything the public can read of a force:
the summaries API for every period (month, quarter, financial year), for the force and by area, every page
of it; the public page and its chart CSVs for every financial year; and, signed in as another force's PCC
staff, /compare/ for every year. It writes down every count shown, then the arithmetic anyone knows: the
areas add up to the force, months to their quarter, quarters to their financial year, the CED levels and
ethnic groups to the Taser reports, the discharge levels to discharge. Every hidden count is at least 1
(zero is shown). For each hidden count it asks a linear programme for the least and the most it can be.
A hidden count with a single possible value would be given away.
"""

import csv
import datetime
import io
from collections import defaultdict

import numpy as np
import pytest
from django.test import Client
from scipy import sparse
from scipy.optimize import linprog
from scipy.sparse.csgraph import connected_components

from dashboards.demo import seed_demo
from forces.models import Force, Role
from incidents.models import CedLevel, Ethnicity
from incidents.summaries import rebuild_summaries
from oversight.police_calendar import months_back
from tests.conftest import role_user, rows_for_a_module
from tests.factories import AreaFactory, PopulationBaselineFactory, ReportFactory

FORCE = "force"  # the attacker's name for the row of the whole force
LEVEL_LABELS = {level.label: f"level_{level.name.lower()}" for level in CedLevel}
GROUP_LABELS = {label: f"ethnicity_{value}" for value, label in Ethnicity.choices}

# What the attacker knows, from the published counting rules: written here, never read from the disclosure
# control under test, so that a sum the control forgot to tie is one the attacker still uses.
PERIODS = ("month", "quarter", "financial_year")
LEVELS = ["level_angle_drive_stun", "level_fired", "level_drive_stun", "level_arced", "level_red_dotted",
          "level_aimed", "level_drawn", "level_not_stated"]  # fmt: skip
DISCHARGE_LEVELS = ["level_angle_drive_stun", "level_fired", "level_drive_stun"]
NON_DISCHARGE_LEVELS = ["level_arced", "level_red_dotted", "level_aimed", "level_drawn"]
ETHNIC_GROUPS = ["ethnicity_white", "ethnicity_black", "ethnicity_asian", "ethnicity_mixed", "ethnicity_other",
                 "ethnicity_not_reported"]  # fmt: skip
COUNTS = ["reports", "incidents", "taser_reports", *LEVELS, "discharge", "non_discharge", *ETHNIC_GROUPS]
# Counts of one row that add up, (total, parts): each Taser report at its highest level, or "not stated";
# the levels that discharge and those that do not; each Taser report in one ethnic group.
SUMS_IN_A_ROW = (
    ("taser_reports", LEVELS),
    ("discharge", DISCHARGE_LEVELS),
    ("non_discharge", NON_DISCHARGE_LEVELS),
    ("taser_reports", ["discharge", "non_discharge", "level_not_stated"]),
    ("taser_reports", ETHNIC_GROUPS),
)


class Observed:
    """What the attacker has read: each cell (row, period, start, measure) shown with its value, or hidden."""

    def __init__(self):
        self.shown, self.hidden, self.sources = {}, set(), defaultdict(set)

    def read(self, key, value, source):
        if value in (None, "", "suppressed", "[c]"):
            self.hidden.add(key)
        else:
            value = int(value)
            assert self.shown.setdefault(key, value) == value, f"{key} is {value} in {source}, elsewhere not"
            self.shown[key] = value
        self.sources[key].add(source)

    def consistent(self):
        """A page, its CSV and the API show the same cells: none is shown by one and hidden by another."""
        return sorted((key, sorted(self.sources[key])) for key in self.hidden & set(self.shown))


def pages(client, path, **params):
    params = {"page_size": 1000, **params}
    while path:
        body = client.get(path, params).json()
        yield from body["results"]
        path, params = body["next"], {}


def summary_rows(client, force_id):
    """(row: FORCE or an area code or None, period, period start, the row) of every summaries answer."""
    for period in PERIODS:
        for by_area in (False, True):
            for row in pages(client, "/api/v1/summaries/", force=force_id, period=period, by_area=by_area):
                where = (row["area"] or None) if by_area else FORCE
                yield where, period, datetime.date.fromisoformat(row["period_start"]), row


def csv_rows(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def fetch_everything(force_id, other_force_staff):
    """Everything the public (and another force's staff) can read of one force."""
    client, seen = Client(), Observed()
    areas = {area["name"]: area["code"] for area in pages(client, f"/api/v1/forces/{force_id}/areas/")}
    for where, period, start, row in summary_rows(client, force_id):
        for measure in COUNTS:
            seen.read((where, period, start, measure), row[measure], "api")
        for name, value in row.items():  # a rate or ratio shown needs its counts shown
            if name.endswith(("_rate_per_1000", "_ratio", "_ratio_low", "_ratio_high")) and value is not None:
                group = "ethnicity_" + name.removeprefix("ethnicity_").split("_")[0]
                needs = {group} | ({"ethnicity_white"} if "ratio" in name else set())
                assert not needs & set(row["suppressed"]), f"{name} shown beside a hidden count"
    page = client.get(f"/public/{force_id}/")
    years = [year for year, _ in page.context["years"]] if page.context.get("years") else []
    for year in years:
        start = datetime.date(year, 4, 1)
        page = client.get(f"/public/{force_id}/", {"year": year})
        for measure, value in page.context["headline"].items():
            seen.read((FORCE, "financial_year", start, measure), value, "page")
        if page.context["fired_share"] is not None:
            assert {"taser_reports", "level_fired"} <= set(page.context["headline"])
            assert None not in (page.context["headline"]["taser_reports"], page.context["headline"]["level_fired"])
        chart = {"year": year, "format": "csv"}
        for row in csv_rows(client.get(f"/public/{force_id}/", {**chart, "chart": "use-over-time"})):
            quarter = quarter_start(row["Quarter"])
            for label, measure in LEVEL_LABELS.items():
                seen.read((FORCE, "quarter", quarter, measure), row[label], "page csv")
            seen.read((FORCE, "quarter", quarter, "taser_reports"), row["Taser reports"], "page csv")
            if row["Discharge share (%)"] not in ("", "suppressed"):
                assert (FORCE, "quarter", quarter, "discharge") not in seen.hidden
        for row in csv_rows(client.get(f"/public/{force_id}/", {**chart, "chart": "use-by-area"})):
            where = areas.get(row["Area"])
            seen.read((where, "financial_year", start, "taser_reports"), row["Taser reports"], "page csv")
            if row["Per 1,000 residents"] not in ("", "suppressed"):
                assert row["Taser reports"] != "suppressed"
        for row in csv_rows(client.get(f"/public/{force_id}/", {**chart, "chart": "disproportionality"})):
            seen.read((FORCE, "financial_year", start, GROUP_LABELS[row["Ethnic group"]]), row["Taser reports"], "page")
    other = Client()
    other.force_login(other_force_staff)
    name = Force.objects.get(pk=force_id).name
    for year in years:
        response = other.get("/compare/", {"year": year, "format": "csv", "chart": "force-comparison"})
        for row in csv_rows(response):
            if row["Force"] == name:
                start = datetime.date(year, 4, 1)
                seen.read((FORCE, "financial_year", start, "taser_reports"), row["Ours: Taser reports"], "compare")
                seen.read((FORCE, "financial_year", start, "level_fired"), row["Ours: fired"], "compare")
                if row["Ours: fired (%)"] not in ("", "suppressed"):
                    assert "suppressed" not in (row["Ours: Taser reports"], row["Ours: fired"])
    return seen


def quarter_start(name):
    """'Q2 2024/25' → 1 July 2024."""
    number, year = int(name[1]), int(name[3:7])
    return months_back(datetime.date(year, 4, 1), -3 * (number - 1))


def equations(seen):
    """What anyone knows of how the cells add up: [(total key, [part keys])]."""
    keys = set(seen.shown) | seen.hidden
    rows = {key[0] for key in keys}
    areas = rows - {FORCE}
    starts = defaultdict(set)
    for _, period, start, _ in keys:
        starts[period].add(start)
    known = []
    for row in rows:
        for period in PERIODS:
            for start in starts[period]:
                for total, parts in SUMS_IN_A_ROW:
                    known.append(((row, period, start, total), [(row, period, start, p) for p in parts]))
    for period in PERIODS:
        for start in starts[period]:
            for measure in COUNTS:
                known.append(((FORCE, period, start, measure), [(a, period, start, measure) for a in areas]))
    for whole, part, months in (("quarter", "month", 3), ("financial_year", "quarter", 12)):
        for start in starts[whole]:
            end = months_back(start, -months)
            inside = [s for s in starts[part] if start <= s < end]
            for row in rows:
                for measure in COUNTS:
                    known.append(((row, whole, start, measure), [(row, part, s, measure) for s in inside]))
    return known


def attack(seen):
    """{hidden key: (least, most)} it can be, by linear programming over what was seen."""
    hidden = sorted(seen.hidden, key=repr)
    column = {key: i for i, key in enumerate(hidden)}
    rows, cols, coefficients, b = [], [], [], []
    for total, parts in equations(seen):
        terms = [(total, 1.0)] + [(part, -1.0) for part in parts]
        if not any(key in column for key, _ in terms):
            continue
        constant = 0.0
        for key, sign in terms:
            if key in column:
                rows.append(len(b))
                cols.append(column[key])
                coefficients.append(sign)
            else:
                constant += sign * seen.shown.get(key, 0)  # a cell no answer lists is a zero
        b.append(-constant)
    a = sparse.csr_matrix((coefficients, (rows, cols)), shape=(len(b), len(hidden)))
    b = np.array(b)
    _, part_of = connected_components((a.T @ a) != 0, directed=False)
    ranges = {}
    for part in np.unique(part_of):
        local = np.flatnonzero(part_of == part)
        equations_in = np.unique(a[:, local].nonzero()[0])
        sub_a, sub_b = a[equations_in][:, local], b[equations_in]
        for i, index in enumerate(local):
            bounds = []
            for sense in (1, -1):
                objective = np.zeros(len(local))
                objective[i] = sense
                result = linprog(objective, A_eq=sub_a, b_eq=sub_b, bounds=(1, None), method="highs")
                assert result.status in (0, 3), result.message  # 3: unbounded above
                bounds.append(sense * result.fun if result.status == 0 else float("inf"))
            ranges[hidden[index]] = tuple(bounds)
    return ranges


def given_away(ranges):
    return {key: low for key, (low, high) in ranges.items() if high - low < 1e-6}


def exact_cells(force_id, staff):
    """The true counts, as the force's own staff read them."""
    client = Client()
    client.force_login(staff)
    return {
        (where, period, start, measure): row[measure]
        for where, period, start, row in summary_rows(client, force_id)
        for measure in COUNTS
    }


@pytest.fixture
def outsider_of_thames_valley(metropolitan):
    return role_user(Role.PCC_STAFF, metropolitan)


@pytest.fixture
def one_area_holds_all_but_one(thames_valley, oxford):
    """Oxford has 40 Taser reports in June 2025, Reading one; and the year has a month with a single discharge."""
    reading = AreaFactory(force=thames_valley, name="Reading", code="E22000160")
    for area in (oxford, reading):
        PopulationBaselineFactory(area=area)
    day = datetime.date(2025, 6, 15)
    for number in range(40):
        ReportFactory(area=oxford, occurred_on=day, ced_levels=[CedLevel.DRAWN] if number % 3 else [CedLevel.AIMED])
    ReportFactory(area=reading, occurred_on=day, ced_levels=[CedLevel.DRAWN])
    for month in (7, 8, 9):
        for _ in range(12):
            ReportFactory(area=oxford, occurred_on=datetime.date(2025, month, 3), ced_levels=[CedLevel.DRAWN])
    ReportFactory(area=oxford, occurred_on=datetime.date(2025, 8, 20), ced_levels=[CedLevel.DRAWN, CedLevel.FIRED])
    rebuild_summaries(force_ids=[thames_valley.pk])


def test_nothing_hidden_can_be_worked_out_on_the_edge_cases(one_area_holds_all_but_one, outsider_of_thames_valley):
    seen = fetch_everything("thames-valley", outsider_of_thames_valley)
    assert seen.consistent() == []
    assert seen.hidden  # something was hidden to attack
    assert given_away(attack(seen)) == {}


def test_the_attack_recovers_the_edge_cases_without_secondary_suppression(
    one_area_holds_all_but_one, outsider_of_thames_valley, pcc_staff, settings
):
    settings.SECONDARY_SUPPRESSION = False
    seen = fetch_everything("thames-valley", outsider_of_thames_valley)
    recovered = given_away(attack(seen))
    truth = exact_cells("thames-valley", pcc_staff)
    reading = next(key for key in recovered if key[1:] == ("month", datetime.date(2025, 6, 1), "taser_reports"))
    assert recovered[reading] == truth[reading] == 1  # Reading's one report: Oxford's 40 from the force's 41
    single = (FORCE, "month", datetime.date(2025, 8, 1), "level_fired")
    assert recovered[single] == truth[single] == 1  # the single discharge, from its quarter and year
    assert all(truth[key] == value for key, value in recovered.items())


@pytest.fixture(scope="module")
def demo_once(django_db_setup, django_db_blocker):
    # Seeding takes a while: once for the module's demo tests, each test's own changes rolled back after it.
    with rows_for_a_module(django_db_blocker):
        seed_demo(reports=4000, seed=3, end_month=datetime.date(2025, 12, 1))
        yield "avon-and-somerset"


@pytest.fixture
def demo(demo_once, db):
    return Force.objects.get(pk=demo_once)


def test_nothing_hidden_can_be_worked_out_on_the_demo_data(demo, outsider_of_thames_valley):
    seen = fetch_everything(demo.pk, outsider_of_thames_valley)
    assert seen.consistent() == []
    assert len(seen.hidden) > 100
    assert given_away(attack(seen)) == {}


def test_the_attack_recovers_demo_counts_without_secondary_suppression(demo, outsider_of_thames_valley, settings):
    settings.SECONDARY_SUPPRESSION = False
    seen = fetch_everything(demo.pk, outsider_of_thames_valley)
    recovered = given_away(attack(seen))
    staff = role_user(Role.PCC_STAFF, demo)
    truth = exact_cells(demo.pk, staff)
    assert len(recovered) > 10
    assert all(truth[key] == round(value) for key, value in recovered.items())
