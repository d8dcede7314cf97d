from django.apps import AppConfig, apps

# What the audit trail records, with the fields it leaves out (derived or bulky, never entered).
# django-auditlog (rather than django-simple-history): one table of entries holding each change's
# before and after values, so one trail page reads every kind of record and one trigger keeps the
# table append-only, where simple-history adds a history table per model.
AUDITED = {
    "incidents.UseOfForceReport": ["content_hash"],
    "incidents.CedUse": [],
    "incidents.ImportBatch": ["summary_cells"],
    "forces.CapabilityRecord": [],
    "forces.UpliftDecision": [],
    "scrutiny.Review": [],
    "scrutiny.Finding": [],
    "scrutiny.ForceResponse": [],
    "scrutiny.Action": [],
}


class AuditConfig(AppConfig):
    name = "audit"

    def ready(self):
        from auditlog import get_logentry_model
        from auditlog.registry import auditlog

        from oversight import triggers

        for label, excluded in AUDITED.items():
            model = apps.get_model(label)
            # The record's own columns only: not the reverse relations (a report's CED uses, its cases).
            fields = [field.name for field in model._meta.concrete_fields if field.name not in excluded]
            auditlog.register(model, include_fields=fields)
        entries = get_logentry_model()
        guard = triggers.AppendOnly(
            name="audit_trail_is_append_only",
            table=entries._meta.db_table,
            columns=tuple(field.column for field in entries._meta.concrete_fields),
            unlinkable=entries._meta.get_field("actor").column,
            delete_setting=triggers.RETENTION_SETTING,
            message="the audit trail is never changed; only record retention removes entries",
        )
        # Installed after auditlog's own migrations have made (or altered) its table.
        triggers.connect(apps.get_app_config("auditlog"), [guard])
