"""Deterministic, realistic demo data: the same seed and arguments give the same data.

Proportions follow the published national figures: Taser used in about 8% of use-of-force
reports, the highest level distributed as in England and Wales 2019/20 (red-dot 52%,
drawn 22%, fired 10%, aimed 10%, not stated 4%), people perceived as Black subjected to
Taser at about 7.5 times the rate of White residents, more use in summer, several
officers' reports per incident. Everything is generated column-wise with numpy in chunks,
then written with incidents.imports.bulk.bulk_insert (COPY on PostgreSQL).
"""

import datetime
import zlib

import numpy as np
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.utils import timezone

from dashboards.demo_figures import (
    AGE_SHARES,
    CONDUCT_SHARES,
    DEMO_FORCES,
    ETHNICITY_NOT_REPORTED,
    GENDER_SHARES,
    GROUPS,
    HEALTH_SHARES,
    INCIDENT_PREFIXES,
    LEVEL_SHARES,
    MAIN_DUTY_SHARES,
    OFFICER_INJURY_SHARES,
    OPTION_CHANCES,
    PROBE_ZONES,
    RATE_RATIO,
    SUBJECT_INJURY_SHARES,
    TASER_INCIDENT_SHARE,
    VIDEO_SHARES,
)
from forces.models import Area, CapabilityRecord, DeviceModel, Force, PopulationBaseline, Role, UpliftDecision
from forces.services import create_role_user, load_forces
from incidents.alerts import raise_alerts
from incidents.imports.bulk import analyze, bulk_insert, delete_reports, next_data_version, reserve_ids
from incidents.models import (
    LADDER,
    CedLevel,
    CedUse,
    Ethnicity,
    ImportBatch,
    UseOfForceReport,
)
from incidents.summaries import rebuild_summaries
from scrutiny import services as scrutiny
from scrutiny.models import (
    Action,
    ActionUpdate,
    CaseSample,
    CaseView,
    Finding,
    ForceResponse,
    Meeting,
    Panel,
    PanelMember,
    Review,
    SampledCase,
)

CHUNK = 100_000
DEMO_PASSWORD = "taser-demo"  # noqa: S105 - demo accounts on demo data only; README says so
DEMO_FORCE = "thames-valley"  # the force of the demo logins and the demo panel


def last_full_month(today=None):
    today = today or datetime.date.today()
    return (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def choose(rng, shares, size):
    """Draw `size` keys of `shares` in proportion to their values, as a Python list."""
    keys = list(shares)
    weights = np.array([shares[key] for key in keys], dtype=float)
    picks = rng.choice(len(keys), size=size, p=weights / weights.sum())
    return [keys[i] for i in picks]


def null_where(mask, values):
    """values with None where mask is set (a nullable column)."""
    return [None if m else v for m, v in zip(mask.tolist(), values.tolist(), strict=True)]


class DemoGenerator:
    def __init__(self, *, seed, months, end_month):
        self.rng = np.random.default_rng(seed)
        self.seed = seed
        self.end_month = end_month
        start = np.datetime64(end_month, "M") - (months - 1)
        self.months = start + np.arange(months)
        # Summer peak and a gentle rise over the period, as in published series.
        month_numbers = (self.months.astype(int) % 12) + 1
        weights = (1 + 0.15 * np.cos(2 * np.pi * (month_numbers - 7) / 12)) * np.linspace(0.9, 1.1, months)
        self.month_weights = weights / weights.sum()

    # --- reference data -----------------------------------------------------------------

    def prepare_forces(self):
        """Demo forces with their areas (existing ones if imported) and population baselines."""
        load_forces()
        self.forces = []
        for force_id, (share, area_names, mix) in DEMO_FORCES.items():
            force = Force.objects.get(pk=force_id)
            kind = Area.Kind.BOROUGH if force_id == "metropolitan" else Area.Kind.CSP
            for index, name in enumerate(area_names, start=1):
                if not force.areas.filter(name=name).exists():
                    Area.objects.get_or_create(
                        force=force,
                        code=f"DEMO-{force_id[:3].upper()}{index:02d}",
                        defaults={"name": name, "kind": kind},
                    )
            areas = list(force.areas.order_by("code"))
            for area in areas:
                if not area.population_baselines.exists():
                    self.demo_baseline(area, mix)
            populations = {b.area_id: b for b in PopulationBaseline.objects.filter(area__in=areas, census_year=2021)}
            self.forces.append((force, share, areas, populations))

    def demo_baseline(self, area, mix):
        # Its own generator, so the reports drawn next do not depend on whether baselines
        # existed already (a second seeding finds them in place).
        rng = np.random.default_rng(zlib.crc32(area.code.encode()))
        total = int(rng.integers(120_000, 420_000))
        shares = rng.dirichlet(np.array(mix) * 300)
        counts = np.floor(shares * total * 0.99).astype(int)
        PopulationBaseline.objects.create(
            area=area,
            census_year=2021,
            total=total,
            source="Demo figures, not Census data",
            **dict(zip(["white", "black", "asian", "mixed", "other"], counts.tolist(), strict=True)),
        )

    # --- reports ------------------------------------------------------------------------

    def ethnicity_table(self, areas, populations):
        """Cumulative probabilities [area, taser incident, category] over GROUPS + Not reported."""
        table = np.zeros((len(areas), 2, len(GROUPS) + 1))
        for a, area in enumerate(areas):
            baseline = populations.get(area.id)
            residents = np.array([getattr(baseline, g.value) for g in GROUPS], dtype=float) if baseline else np.ones(5)
            for taser in (False, True):
                weights = residents * np.array(RATE_RATIO[taser])
                probabilities = np.append(
                    weights / weights.sum() * (1 - ETHNICITY_NOT_REPORTED), ETHNICITY_NOT_REPORTED
                )
                table[a, int(taser)] = np.cumsum(probabilities)
        return table

    def report_chunk(self, size, batches):
        """Columns of `size` reports and of their CED uses."""
        rng = self.rng
        # Incidents: one to four officers' reports each, sharing when, where and who.
        incident_sizes = rng.choice([1, 2, 3, 4], size=size, p=[0.55, 0.3, 0.1, 0.05])
        incident = np.repeat(np.arange(size), incident_sizes)[:size]
        incidents = incident[-1] + 1

        force_index = rng.choice(len(self.forces), size=incidents, p=[f[1] for f in self.forces])[incident]
        taser_incident = (rng.random(incidents) < TASER_INCIDENT_SHARE)[incident]
        first_of_incident = np.r_[True, incident[1:] != incident[:-1]]
        ced_used = taser_incident & (first_of_incident | (rng.random(size) < 0.45))

        month = rng.choice(self.months, size=incidents, p=self.month_weights)
        days_in_month = ((month + 1).astype("datetime64[D]") - month.astype("datetime64[D]")).astype(int)
        dates = (month.astype("datetime64[D]") + (rng.random(incidents) * days_in_month).astype(int))[incident]
        minutes = rng.integers(0, 1440, size=incidents)[incident]
        area_pick = rng.random(incidents)[incident]
        ethnicity_pick = rng.random(incidents)[incident]

        area_ids = np.zeros(size, dtype=np.int64)
        ethnicity = np.empty(size, dtype=object)
        for f, (_, _, areas, populations) in enumerate(self.forces):
            rows = force_index == f
            weights = np.array([populations[a.id].total if a.id in populations else 1 for a in areas], dtype=float)
            area_index = np.minimum(
                np.searchsorted(np.cumsum(weights / weights.sum()), area_pick[rows]), len(areas) - 1
            )
            area_ids[rows] = np.array([a.id for a in areas])[area_index]
            table = self.ethnicity_table(areas, populations)[area_index, ced_used[rows].astype(int)]
            category = np.minimum((ethnicity_pick[rows][:, None] > table).sum(axis=1), len(GROUPS))
            ethnicity[rows] = np.array([g.value for g in GROUPS] + [Ethnicity.NOT_REPORTED.value], dtype=object)[
                category
            ]

        def incident_choice(shares):
            return np.array(choose(rng, shares, incidents), dtype=object)[incident].tolist()

        def report_choice(shares):
            return choose(rng, shares, size)

        force_ids = np.array([f[0].id for f in self.forces], dtype=object)[force_index]
        columns = {
            "force": force_ids.tolist(),
            "area": area_ids.tolist(),
            "occurred_on": dates.astype(str).tolist(),
            "occurred_at": [f"{m // 60:02d}:{m % 60:02d}:00" for m in minutes.tolist()],
            # Every imported record has an identity in its source; an export of the demo re-imports.
            "source_key": [f"DEMO-{self.seed}-R{n}" for n in range(self.report_offset, self.report_offset + size)],
            "incident_reference": [f"DEMO-{self.seed}-{i}" for i in (incident + self.incident_offset).tolist()],
            "officer_reference": [f"OFF-{n:05d}" for n in rng.integers(1, 4000, size=size).tolist()],
            "subject_age": incident_choice(AGE_SHARES),
            "subject_gender": incident_choice(GENDER_SHARES),
            "subject_ethnicity": ethnicity.tolist(),
            "subject_ethnicity_source": [""] * size,
            "subject_health": incident_choice(HEALTH_SHARES),
            "subject_conduct": incident_choice(CONDUCT_SHARES),
            "officer_main_duty": report_choice(MAIN_DUTY_SHARES),
            "body_worn_video": report_choice(VIDEO_SHARES),
            "officer_injury": report_choice(OFFICER_INJURY_SHARES),
            "subject_injury": incident_choice(SUBJECT_INJURY_SHARES),
        }
        self.incident_offset += incidents
        self.report_offset += size
        for name, (plain, taser) in OPTION_CHANCES.items():
            draws = rng.random(incidents)[incident] if name.startswith(INCIDENT_PREFIXES) else rng.random(size)
            columns[name] = (draws < np.where(ced_used, taser, plain)).tolist()
        not_stated = rng.random(size) < 0.04
        columns["officer_single_crewed"] = null_where(not_stated, rng.random(size) < 0.18)
        columns["officer_ced_trained"] = null_where(not_stated, ced_used | (rng.random(size) < 0.35))
        columns["officer_carrying_ced"] = null_where(not_stated, ced_used | (rng.random(size) < 0.28))
        columns["officer_assaulted"] = null_where(not_stated, rng.random(size) < np.where(ced_used, 0.35, 0.22))
        columns["officer_threatened_with_weapon"] = null_where(
            not_stated, rng.random(size) < np.where(ced_used, 0.3, 0.09)
        )

        # The ladder: a highest level as published, and some of the levels below it too.
        levels = np.array(list(LEVEL_SHARES), dtype=int)
        shares = np.array(list(LEVEL_SHARES.values()), dtype=float)
        highest = np.where(ced_used, rng.choice(levels, size=size, p=shares / shares.sum()), -1)
        flags = {}
        for level, flag in LADDER:
            below = rng.random(size) < (0.9 if level == CedLevel.DRAWN else 0.55)
            flags[flag] = (highest == level) | ((highest > level) & below)
            columns[flag] = flags[flag].tolist()
        columns["ced_used"] = ced_used.tolist()
        columns["highest_ced_level"] = [None if h < 0 else h for h in highest.tolist()]
        columns["import_batch"] = [batches[f].id for f in force_ids.tolist()]
        columns["data_version"] = [batches[f].data_version for f in force_ids.tolist()]
        return columns, dates, highest, flags

    def ced_use_rows(self, report_ids, dates, highest, flags):
        """One CED use per Taser report with a stated level; a second device for some."""
        rng = self.rng
        stated = np.flatnonzero(highest > 0)
        second = stated[rng.random(len(stated)) < 0.04]
        rows = []
        for device_number, indexes in ((1, stated), (2, second)):
            n = len(indexes)
            when = dates[indexes]
            taser7_share = np.clip((when - np.datetime64("2020-08-01")).astype(int) / 1900, 0, 0.75)
            model_pick = rng.random(n)
            model = np.where(
                model_pick < taser7_share,
                DeviceModel.TASER_7.value,
                np.where(model_pick < 0.85, DeviceModel.X2.value, DeviceModel.X26.value),
            )
            model = np.where(
                (when >= np.datetime64("2025-10-01")) & (rng.random(n) < 0.3), DeviceModel.TASER_10.value, model
            )
            device_flags = {
                flag: flags[flag][indexes] & (device_number == 1 or rng.random(n) < 0.7) for _, flag in LADDER
            }
            # A second device records at least being drawn, which its report has (flags ⊆ report).
            if device_number == 2:
                device_flags["ced_drawn"] = flags["ced_drawn"][indexes]
            discharged = (
                device_flags["ced_fired"] | device_flags["ced_drive_stun"] | device_flags["ced_angle_drive_stun"]
            )
            cycles = rng.choice([1, 2, 3], size=n, p=[0.8, 0.15, 0.05])
            fired = device_flags["ced_fired"]
            missed_both = rng.random(n) < 0.03
            missed_one = ~missed_both & (rng.random(n) < 0.1)
            zones = np.array(PROBE_ZONES, dtype=object)[rng.integers(0, len(PROBE_ZONES), size=n)]
            for i, row in enumerate(indexes.tolist()):
                on_target = fired[i] and not missed_both[i]
                rows.append(
                    (
                        report_ids[row],
                        device_number,
                        str(model[i]),
                        "",
                        *(bool(device_flags[flag][i]) for _, flag in LADDER),
                        bool(rng.random() < 0.1) if device_flags["ced_drive_stun"][i] else None,
                        (2 if rng.random() < 0.1 else 1) if fired[i] else None,
                        bool(rng.random() < 0.05) if discharged[i] else None,
                        bool(rng.random() < 0.04) if fired[i] else None,
                        int(cycles[i]) if discharged[i] else None,
                        bool(rng.random() < 0.04) if discharged[i] else None,
                        bool(missed_one[i]) if fired[i] else None,
                        bool(missed_both[i]) if fired[i] else None,
                        zones[i] if on_target else "[]",
                    )
                )
        return rows

    CED_USE_COLUMNS = (
        "report",
        "device_number",
        "device_model",
        "serial_number",
        *(flag for _, flag in LADDER),
        "drive_stun_repeated",
        "cartridge_number",
        "cycle_interrupted",
        "repeat_cycle_same_cartridge",
        "cycles",
        "cycle_extended",
        "missed_one_probe",
        "missed_both_probes",
        "probe_zones",
    )

    def write_reports(self, total, progress=None):
        self.incident_offset = 0
        self.report_offset = 0
        batches = {}
        for force, *_ in self.forces:
            batches[force.id] = ImportBatch.objects.create(
                force=force,
                data_version=next_data_version(force),
                source_name=f"seed_demo --seed {self.seed}",
                source_format=ImportBatch.Format.DEMO,
                status=ImportBatch.Status.RUNNING,
            )
        written = 0
        while written < total:
            size = min(CHUNK, total - written)
            columns, dates, highest, flags = self.report_chunk(size, batches)
            ids = reserve_ids(UseOfForceReport, size)
            names = ["id", *columns]
            bulk_insert(UseOfForceReport, names, zip(ids, *columns.values(), strict=True))
            bulk_insert(CedUse, self.CED_USE_COLUMNS, self.ced_use_rows(ids, dates, highest, flags))
            for force_id, count in zip(*np.unique(np.array(columns["force"]), return_counts=True), strict=True):
                batches[force_id].rows_read += int(count)
            written += size
            if progress:
                progress(size)
        for batch in batches.values():
            batch.rows_added = batch.rows_read
            batch.status = ImportBatch.Status.SUCCEEDED
            batch.finished_at = timezone.now()
            batch.save()
        return batches

    # --- capability, users, scrutiny ------------------------------------------------------

    def write_capability(self):
        for force, *_ in self.forces:
            devices, trained = int(self.rng.integers(300, 900)), int(self.rng.integers(600, 1500))
            if force.id == "metropolitan":
                devices, trained = devices * 6, trained * 6
            for month in self.months[::3]:
                as_of = month.astype("datetime64[D]").item()
                model = DeviceModel.TASER_7 if as_of >= datetime.date(2020, 8, 1) else DeviceModel.X2
                CapabilityRecord.objects.update_or_create(
                    force=force,
                    as_of=as_of,
                    device_model=model,
                    defaults={"devices_in_service": devices, "officers_trained": trained, "source": "Demo figures"},
                )
                devices += int(self.rng.integers(0, 25))
                trained += int(self.rng.integers(0, 45))
            UpliftDecision.objects.get_or_create(
                force=force,
                decided_on=self.months[0].astype("datetime64[D]").item(),
                defaults={
                    "decision": "Demo: uplift of Taser-trained officers on response teams by 20%.",
                    "threat_risk_assessment_ref": f"STRA-{force.id[:3].upper()}-DEMO",
                    "community_impact_considered": True,
                    "pcc_informed_on": self.months[1].astype("datetime64[D]").item(),
                },
            )

    def write_users(self):
        force = Force.objects.get(pk=DEMO_FORCE)
        users = {role: create_role_user(role.value, role, force, DEMO_PASSWORD) for role in Role}
        users["chair"] = create_role_user("panel_chair", Role.PANEL_MEMBER, force, DEMO_PASSWORD)
        admin, created = get_user_model().objects.get_or_create(
            username="admin", defaults={"is_staff": True, "is_superuser": True}
        )
        if created:
            admin.set_password(DEMO_PASSWORD)
            admin.save()
        return users

    def write_panel(self, users):
        force = Force.objects.get(pk=DEMO_FORCE)
        panel = Panel.objects.create(
            force=force,
            name="Demo Taser scrutiny panel",
            grading_scale=Panel.Scale.RAG,
            terms_of_reference="Demo: review a sample of Taser uses each quarter, including every discharge.",
            rubric=[
                "Camera activated before the Taser was drawn?",
                "Warning given?",
                "De-escalation attempted?",
                "Was the use proportionate?",
            ],
        )
        term_start = self.months[0].astype("datetime64[D]").item()
        period_end = (np.datetime64(self.end_month, "M") + 1).astype("datetime64[D]").item() - datetime.timedelta(
            days=1
        )
        period_start = (np.datetime64(self.end_month, "M") - 11).astype("datetime64[D]").item()
        members = {
            role: PanelMember.objects.create(
                user=users[key],
                panel=panel,
                role=role,
                term_starts_on=term_start,
                vetted_on=period_start,
                trained_on=period_start,
            )
            for key, role in ((Role.PANEL_MEMBER, PanelMember.Role.MEMBER), ("chair", PanelMember.Role.CHAIR))
        }
        # Held the day after the period it samples, so the chair can open its cases.
        meeting = Meeting.objects.create(panel=panel, held_on=period_end + datetime.timedelta(days=1))
        sample = scrutiny.draw_sample(
            meeting=meeting,
            rule=CaseSample.Rule.ALL_DISCHARGES,
            starts_on=period_start,
            ends_on=period_end,
            user=users[Role.PCC_STAFF],
        )
        if meeting.held_on > timezone.localdate():
            return  # a demo of the future: nothing can have been reviewed yet
        # The member has reviewed half the cases, the chair the first; the first is opened at the
        # meeting, found on and sent to the force, with an action. The rest are left to try out.
        cases = list(sample.cases.order_by("report__occurred_on", "report_id"))
        grades = panel.grades
        yes = dict.fromkeys(panel.questions, "yes")
        for index, case in enumerate(cases[: (len(cases) + 1) // 2]):
            scrutiny.save_review(
                case=case, member=members[PanelMember.Role.MEMBER], answers=yes, grade=grades[index % len(grades)],
                learning_points="Demo review.", submit=True,
            )  # fmt: skip
        if cases:
            chair = users["chair"]
            scrutiny.save_review(
                case=cases[0], member=members[PanelMember.Role.CHAIR], answers=yes | {"Warning given?": "unclear"},
                grade=grades[1], learning_points="Demo: the warning is hard to hear on the video.", submit=True,
            )  # fmt: skip
            scrutiny.open_case_at_meeting(case=cases[0], user=chair)
            finding = scrutiny.record_finding(
                case=cases[0], user=chair, panel_grade=grades[1],
                summary="Demo: warning given late; de-escalation partly attempted.",
                themes=["communication", "de_escalation"], for_force_feedback=True,
            )  # fmt: skip
            scrutiny.create_action(
                finding=finding,
                user=users[Role.PCC_STAFF],
                description="Demo: refresh briefing on warnings before drawing.",
                owner="Head of Taser training",
                due_on=timezone.localdate() + datetime.timedelta(days=90),
            )


def clear_demo_data():
    """Remove earlier demo data so seeding again replaces it (real imports are kept)."""
    demo_panels = Panel.objects.filter(name="Demo Taser scrutiny panel")
    ActionUpdate.objects.filter(action__finding__sampled_case__sample__panel__in=demo_panels).delete()
    Action.objects.filter(finding__sampled_case__sample__panel__in=demo_panels).delete()
    ForceResponse.objects.filter(finding__sampled_case__sample__panel__in=demo_panels).delete()
    Finding.objects.filter(sampled_case__sample__panel__in=demo_panels).delete()
    Review.objects.filter(member__panel__in=demo_panels).delete()
    CaseView.objects.filter(sampled_case__sample__panel__in=demo_panels).delete()
    SampledCase.objects.filter(sample__panel__in=demo_panels).delete()
    CaseSample.objects.filter(panel__in=demo_panels).delete()
    Meeting.objects.filter(panel__in=demo_panels).delete()
    PanelMember.objects.filter(panel__in=demo_panels).delete()
    demo_panels.delete()
    demo_batches = ImportBatch.objects.filter(source_format=ImportBatch.Format.DEMO)
    delete_reports(UseOfForceReport.objects.filter(import_batch__in=demo_batches))
    demo_batches.delete()


def seed_demo(*, reports, seed, months=36, end_month=None, progress=None):
    """Replace the demo data set with a new one. Returns {force id: reports written}."""
    generator = DemoGenerator(seed=seed, months=months, end_month=end_month or last_full_month())
    with transaction.atomic():
        clear_demo_data()
        generator.prepare_forces()
        batches = generator.write_reports(reports, progress=progress)
        generator.write_capability()
        generator.write_panel(generator.write_users())
        rebuild_summaries()
    with connection.cursor() as cursor:  # the planner is told what the tables now hold, as after an import
        for model in (UseOfForceReport, CedUse):
            analyze(cursor, model._meta.db_table)
    for force_id in batches:
        raise_alerts(force_id=force_id)
    return {force_id: batch.rows_read for force_id, batch in batches.items()}
