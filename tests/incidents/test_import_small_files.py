"""A small file into a force that holds many reports reads only the reports its rows could revise."""

import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext

from forces.models import Area
from incidents.imports.pipeline import import_reports
from incidents.models import UseOfForceReport
from incidents.summaries import rebuild_summaries
from tests.factories import ReportFactory
from tests.incidents.test_import_uof import met_file, row
from tests.incidents.test_summaries import assert_summaries_equal_direct_counts


def held_reads(queries):
    """The queries that read held reports to match rows against (their keys and content digests)."""
    return [query["sql"] for query in queries if "content_hash" in query["sql"] and "SELECT" in query["sql"][:20]]


def test_a_small_file_into_a_force_holding_many_reports_reads_only_the_reports_its_rows_name(
    boroughs, metropolitan, tmp_path
):
    lambeth = Area.objects.get(force=metropolitan, name="Lambeth")
    ReportFactory.create_batch(120, area=lambeth, occurred_on=datetime.date(2020, 5, 1))
    rebuild_summaries()  # what the force holds, as its summaries count it
    first = import_reports(
        met_file(tmp_path / "v1.csv", [row(), row(IncidentTime="10:00"), row(IncidentDate="2019-06-01")]),
        metropolitan,
    )
    assert (first.rows_added, first.rows_withdrawn) == (3, 0)

    with CaptureQueriesContext(connection) as second_queries:
        second = import_reports(met_file(tmp_path / "v2.csv", [row(), row(IncidentTime="11:00")]), metropolitan)
    # The 10:00 report is withdrawn; the 2019 one (another financial year) and the force's other reports are not.
    assert (second.rows_added, second.rows_changed, second.rows_unchanged, second.rows_withdrawn) == (1, 0, 1, 1)
    assert UseOfForceReport.objects.get(occurred_at="10:00").withdrawn_in_version == second.data_version
    assert UseOfForceReport.objects.current().count() == 120 + 3

    third = import_reports(
        met_file(tmp_path / "v3.csv", [row(MainDuty="Neighbourhood"), row(IncidentTime="10:00")]), metropolitan
    )
    # The first is corrected, the withdrawn 10:00 report comes back, the 11:00 one goes.
    assert (third.rows_added, third.rows_changed, third.rows_unchanged, third.rows_withdrawn) == (0, 2, 0, 1)
    assert UseOfForceReport.objects.get(occurred_at="10:00").withdrawn_in_version is None
    assert UseOfForceReport.objects.get(occurred_at="11:00").withdrawn_in_version == third.data_version
    assert (
        UseOfForceReport.objects.get(occurred_at="14:20", occurred_on="2020-04-03").officer_main_duty == "Neighbourhood"
    )

    # Matching read the reports by the file's keys, never every report of the force.
    reads = held_reads(second_queries.captured_queries)
    assert reads and all(" = ANY(" in sql or "source_key IN (" in sql for sql in reads)
    rebuild_summaries()
    assert_summaries_equal_direct_counts()
