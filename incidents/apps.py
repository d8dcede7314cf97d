from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_save


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from incidents import signals
        from incidents.models import INTEGRITY_RULES, CedUse, ImportBatch, UseOfForceReport
        from oversight import triggers

        triggers.connect(self, INTEGRITY_RULES)
        # Bulk writes (imports, the demo) rebuild their cells themselves; these catch the
        # edits made one record at a time, in the admin or through the API.
        pre_save.connect(signals.remember_summary_cell, sender=UseOfForceReport)
        for signal in (post_save, post_delete):
            signal.connect(signals.report_changed, sender=UseOfForceReport)
            signal.connect(signals.ced_use_changed, sender=CedUse)
        # A batch that succeeds is a new data version: pages say it is being summarised.
        post_save.connect(signals.batch_saved, sender=ImportBatch)
