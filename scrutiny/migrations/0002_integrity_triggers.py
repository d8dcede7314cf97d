from django.db import migrations

from oversight.triggers import must_hold


class Migration(migrations.Migration):
    dependencies = [("scrutiny", "0001_initial"), ("incidents", "0001_initial")]

    operations = [
        must_hold(
            "review_by_member_of_case_panel",
            "scrutiny_review",
            "EXISTS (SELECT 1 FROM scrutiny_panelmember m, scrutiny_sampledcase sc, scrutiny_casesample s "
            "WHERE m.id = NEW.member_id AND sc.id = NEW.sampled_case_id AND s.id = sc.sample_id AND m.panel_id = s.panel_id)",
            "a case may only be reviewed by a member of the panel that sampled it",
        ),
        must_hold(
            "sampled_report_of_panel_force",
            "scrutiny_sampledcase",
            "EXISTS (SELECT 1 FROM scrutiny_casesample s, scrutiny_panel p, incidents_useofforcereport r "
            "WHERE s.id = NEW.sample_id AND p.id = s.panel_id AND r.id = NEW.report_id AND r.force_id = p.force_id)",
            "a panel may only sample reports of its own force",
        ),
        must_hold(
            "sample_meeting_of_same_panel",
            "scrutiny_casesample",
            "NEW.meeting_id IS NULL OR EXISTS (SELECT 1 FROM scrutiny_meeting m WHERE m.id = NEW.meeting_id AND m.panel_id = NEW.panel_id)",
            "a sample may only be drawn for a meeting of its own panel",
        ),
    ]
