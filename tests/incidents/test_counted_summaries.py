"""Summaries counted change by change equal a full rebuild, after any sequence of imports and edits."""

import csv
import datetime
import random

import pytest
from django.db import transaction

from dashboards.demo import seed_demo
from forces.models import Force
from incidents import canonical
from incidents.imports.pipeline import import_reports
from incidents.models import Ethnicity, MonthlySummary, UseOfForceReport
from incidents.summaries import rebuild_summaries
from incidents.tasks import queue_summary_rebuild
from tests.incidents.test_summaries import MEASURES, assert_summaries_equal_direct_counts

FORCE = "metropolitan"  # the demo's largest force


def summaries():
    """The force's cells with their figures and data version, as a comparison sees them (built_at apart)."""
    return {
        (s["force_id"], s["area_id"], s["month"]): {name: s[name] for name in [*MEASURES, "data_version"]}
        for s in MonthlySummary.objects.filter(force=FORCE).values()
    }


def rebuilt():
    """The summaries as a full rebuild makes them from the same reports, the rebuild then undone."""
    with transaction.atomic():
        rebuild_summaries(force_ids=[FORCE])
        cells = summaries()
        transaction.set_rollback(True)
    return cells


def exported_rows():
    """The force's current reports as canonical CSV rows (header first)."""
    rows = canonical.rows(UseOfForceReport.objects.current().filter(force=FORCE))
    return [["" if value is None else str(value) for value in row] for row in rows]


def write(path, rows):
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(rows)
    return path


class Edition:
    """A force's next edition: the rows it held last time, some changed, some new, some left out."""

    def __init__(self, chooser, header):
        self.chooser, self.header = chooser, header
        self.column = {name: i for i, name in enumerate(header)}
        self.new_keys = 0

    def next(self, rows):
        chooser, column = self.chooser, self.column
        rows = [list(row) for row in rows]
        references = sorted({row[column["incident_reference"]] for row in rows} - {""})
        for row in chooser.sample(rows, chooser.randint(1, 3)):
            change = chooser.choice(["reference", "date", "area", "ethnicity"])
            if change == "reference":  # into another incident, a new one or none
                row[column["incident_reference"]] = chooser.choice([*references[:20], "NEW-" + row[0], ""])
            elif change == "date":
                day = datetime.date.fromisoformat(row[column["occurred_on"]])
                row[column["occurred_on"]] = (day + datetime.timedelta(days=chooser.randint(-40, 40))).isoformat()
            elif change == "area":
                other = chooser.choice(rows)
                for name in ("area_code", "area_name"):
                    row[column[name]] = other[column[name]]
            else:
                row[column["subject_ethnicity"]] = chooser.choice(Ethnicity.values)
        for row in chooser.sample(rows, chooser.randint(0, 2)):
            added = list(row)
            self.new_keys += 1
            added[0] = f"ADDED-{self.new_keys}"
            if chooser.random() < 0.5:  # often an officer of an incident already held
                added[column["incident_reference"]] = chooser.choice(references)
            rows.append(added)
        for row in chooser.sample(rows, chooser.randint(0, 2)):
            rows.remove(row)  # withdrawn: the edition covers its financial year
        return rows


def edit_a_report(chooser):
    """One record changed, withdrawn or deleted by hand (the admin, the API), as its save or delete does it."""
    report = chooser.choice(list(UseOfForceReport.objects.current().filter(force=FORCE)))
    action = chooser.choice(["move", "reference", "withdraw", "delete", "ethnicity"])
    if action == "delete":
        report.delete()
        return
    if action == "move":
        report.area = chooser.choice(list(report.force.areas.all()))
        report.occurred_on -= datetime.timedelta(days=chooser.randint(0, 60))
    elif action == "reference":
        other = chooser.choice(list(UseOfForceReport.objects.filter(force=FORCE).exclude(incident_reference="")))
        report.incident_reference = other.incident_reference
    elif action == "withdraw":
        report.withdrawn_in_version = 99
    else:
        report.subject_ethnicity = chooser.choice(Ethnicity.values)
    report.save()


@pytest.mark.parametrize("seed", [11, 12])
def test_counted_summaries_equal_a_full_rebuild_after_random_imports_and_edits(
    db, seed, tmp_path, django_capture_on_commit_callbacks
):
    seed_demo(reports=1500, seed=seed, months=4)
    force = Force.objects.get(pk=FORCE)
    chooser = random.Random(seed)  # noqa: S311 - which records to change, not a secret
    rows = exported_rows()
    edition = Edition(chooser, rows[0])
    # The demo's reports have no content digest: the first edition changes them all, and is rebuilt.
    counted = []
    body = rows[1:]
    for step in range(10):
        with django_capture_on_commit_callbacks(execute=True):
            if step == 0 or chooser.random() < 0.6:
                body = edition.next(body) if step else body
                batch = import_reports(write(tmp_path / f"edition-{step}.csv", [rows[0], *body]), force)
                queue_summary_rebuild(force.pk, batch.summary_cells, counted=batch.summaries_counted)
                counted.append(batch.summaries_counted)
            else:
                edit_a_report(chooser)
                body = exported_rows()[1:]
        assert summaries() == rebuilt(), f"step {step}"
    assert_summaries_equal_direct_counts()
    # The comparison means something: editions were counted, not rebuilt, and the first was rebuilt.
    assert counted[0] is False and any(counted[1:])
