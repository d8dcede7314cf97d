"""The exact incremental audit hides exactly what the method it replaced hides (tests/incidents/
suppression_reference.py: every audit over the whole system, by dense QR in floating point), on random
families of areas, months and counts, many of them small."""

import datetime

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incidents.disclosure import family_of_counts
from incidents.queries import ADDITIVE_GROUPS, API_MEASURES, ETHNICITY_MEASURES, LEVEL_MEASURES
from incidents.suppression import determined_cells, suppressed_cells
from oversight.police_calendar import months_back
from tests.incidents import suppression_reference

DISCHARGE = dict((total, parts) for total, parts in ADDITIVE_GROUPS)["discharge"]
NON_DISCHARGE = dict((total, parts) for total, parts in ADDITIVE_GROUPS)["non_discharge"]
# Mostly small counts, where suppression has work to do, and now and then a large one.
COUNT = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 60))


@st.composite
def summary_row(draw):
    """One area-month's counts of API_MEASURES that add up as real summaries do."""
    row = {name: draw(COUNT) for name in LEVEL_MEASURES}
    row["taser_reports"] = sum(row[name] for name in LEVEL_MEASURES)
    row["discharge"] = sum(row[name] for name in DISCHARGE)
    row["non_discharge"] = sum(row[name] for name in NON_DISCHARGE)
    left = row["taser_reports"]
    for name in ETHNICITY_MEASURES[:-1]:
        row[name] = draw(st.integers(0, left))
        left -= row[name]
    row[ETHNICITY_MEASURES[-1]] = left
    row["reports"] = row["taser_reports"] + draw(COUNT)
    row["incidents"] = draw(st.integers(0, row["reports"]))
    return np.array([row[name] for name in API_MEASURES], dtype=np.int64)


@st.composite
def families(draw):
    """A force's family: 1-4 areas (and now and then reports with no area), 1-15 months from a random month."""
    areas = list(range(1, draw(st.integers(1, 4)) + 1)) + draw(st.sampled_from([[], [None]]))
    first = datetime.date(draw(st.integers(2020, 2025)), draw(st.integers(1, 12)), 1)
    months = [months_back(first, -n) for n in range(draw(st.integers(1, 15)))]
    cells = draw(st.lists(st.tuples(st.sampled_from(areas), st.sampled_from(months)), min_size=1, unique=True))
    return family_of_counts({cell: draw(summary_row()) for cell in cells})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(family=families(), threshold=st.sampled_from([2, 3, 5]))
def test_the_exact_incremental_audit_hides_the_same_cells_as_the_reference(family, threshold):
    _, values, equations = family
    hidden = suppressed_cells(values, equations, threshold=threshold)
    assert hidden.tolist() == suppression_reference.suppressed_cells(values, equations, threshold=threshold).tolist()
    members = [np.array([total, *parts]) for total, parts in equations]
    assert determined_cells(values, members, hidden) == []


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(family=families())
def test_an_audit_of_primary_suppression_alone_finds_the_cells_the_reference_finds(family):
    _, values, equations = family
    members = [np.array([total, *parts]) for total, parts in equations]
    hidden = (values >= 1) & (values <= 5)
    assert determined_cells(values, members, hidden) == suppression_reference.determined_cells(values, members, hidden)
