"""After a bulk write the query planner is told what the tables now hold (ANALYZE): otherwise it plans the
report lists by an area or a subject's value as reads of every report of the area (300-700 ms a page at
5,000,000 reports, 1-10 ms once analysed), until autovacuum gets round to it, if it is on at all."""

import datetime

import pytest
from django.db import connection

from dashboards.demo import seed_demo
from incidents.imports import pipeline
from incidents.imports.matching import held_by_keys_query
from incidents.imports.pipeline import import_reports
from incidents.models import UseOfForceReport
from tests.incidents.test_import_uof import met_file, row
from tests.test_constraints import postgresql_only

pytestmark = [postgresql_only, pytest.mark.django_db]
REPORTS = UseOfForceReport._meta.db_table


def most_common_values(column):
    """What the planner's statistics say are the column's most common values, or None if it has none."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT most_common_vals::text FROM pg_stats WHERE tablename = %s AND attname = %s", [REPORTS, column]
        )
        found = cursor.fetchone()
    return found and found[0]


def test_after_a_large_import_the_planner_knows_what_the_filtered_columns_hold(tmp_path, lambeth, monkeypatch):
    monkeypatch.setattr(pipeline, "ANALYZE_AFTER_ROWS", 100)  # a large import, in few rows
    rows = [row(IncidentDate=f"2020-04-{day:02}", SubjectEthnicity="Black") for day in range(1, 31)] * 4
    batch = import_reports(met_file(tmp_path / "uof.csv", rows), lambeth.force)
    assert batch.rows_added == 120
    ethnicity, area = UseOfForceReport.objects.values_list("subject_ethnicity", "area_id").distinct().get()
    assert most_common_values("subject_ethnicity") == f"{{{ethnicity}}}"
    assert most_common_values("area_id") == f"{{{area}}}"


def test_after_the_demo_data_are_written_the_planner_knows_what_they_hold(db):
    seed_demo(reports=400, seed=2, months=3)
    held = set(UseOfForceReport.objects.values_list("area_id", flat=True))
    assert set(most_common_values("area_id").strip("{}").split(",")) <= {str(area) for area in held}


def test_the_planner_expects_a_look_up_by_keys_to_find_as_many_reports_as_keys(tmp_path, lambeth, monkeypatch):
    # The look-up goes through the hash index of the joined force and key. As a partial index, whose
    # expression's statistics PostgreSQL does not use, it expected a batch's keys to match most reports,
    # and read every report for them (370 ms a batch at a million).
    monkeypatch.setattr(pipeline, "ANALYZE_AFTER_ROWS", 100)
    days = [datetime.date(2020, 4, 1) + datetime.timedelta(days=n) for n in range(365)]
    rows = [row(IncidentDate=day.isoformat(), IncidentTime=f"{hour:02}:00") for day in days for hour in range(12)]
    assert import_reports(met_file(tmp_path / "uof.csv", rows), lambeth.force).rows_added == len(rows)
    keys = list(UseOfForceReport.objects.values_list("source_key", flat=True)[:50])
    with connection.cursor() as cursor:
        query, params = held_by_keys_query(lambeth.force_id, "met", keys)
        cursor.execute(f"EXPLAIN (FORMAT JSON) {query}", params)
        expected = cursor.fetchone()[0][0]["Plan"]["Plan Rows"]
    assert expected <= 2 * len(keys)  # of 4,380 reports
