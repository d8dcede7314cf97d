from django.db import migrations

from oversight.triggers import must_hold

LADDER_FLAGS = (
    "ced_drawn",
    "ced_aimed",
    "ced_red_dotted",
    "ced_arced",
    "ced_drive_stun",
    "ced_fired",
    "ced_angle_drive_stun",
)
REPORT = "incidents_useofforcereport"

# Every level a device was used at is among the report's levels, and the report says CED was used.
device_levels_on_report = " AND ".join(f"(NOT NEW.{flag} OR r.{flag})" for flag in LADDER_FLAGS)
report_drops_a_device_level = " OR ".join(f"(c.{flag} AND NOT NEW.{flag})" for flag in LADDER_FLAGS)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0001_initial"), ("forces", "0001_initial")]

    operations = [
        must_hold(
            "report_area_in_report_force",
            REPORT,
            "NEW.area_id IS NULL OR EXISTS (SELECT 1 FROM forces_area a WHERE a.id = NEW.area_id AND a.force_id = NEW.force_id)",
            "a report may only be placed in an area of its own force",
            columns=("area_id", "force_id"),
        ),
        must_hold(
            "area_keeps_force_of_its_reports",
            "forces_area",
            f"NOT EXISTS (SELECT 1 FROM {REPORT} r WHERE r.area_id = NEW.id AND r.force_id <> NEW.force_id)",
            "an area with reports cannot move to another force",
            events=("UPDATE",),
            columns=("force_id",),
        ),
        must_hold(
            "ced_use_levels_on_report",
            "incidents_ceduse",
            f"EXISTS (SELECT 1 FROM {REPORT} r WHERE r.id = NEW.report_id AND r.ced_used AND {device_levels_on_report})",
            "every level a device was used at must be among its report's levels",
        ),
        must_hold(
            "report_levels_cover_ced_uses",
            REPORT,
            f"NOT EXISTS (SELECT 1 FROM incidents_ceduse c WHERE c.report_id = NEW.id AND (NOT NEW.ced_used OR {report_drops_a_device_level}))",
            "a report cannot drop a level one of its devices was used at",
            events=("UPDATE",),
            columns=("ced_used", *LADDER_FLAGS),
        ),
    ]
