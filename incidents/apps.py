from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from incidents import signals
        from incidents.models import INTEGRITY_RULES, CedUse, ImportBatch, UseOfForceReport
        from oversight import triggers

        triggers.connect(self, INTEGRITY_RULES)
        # Bulk writes (imports, the demo) count or rebuild their cells themselves; these count the
        # edits made one record at a time (the admin, a service's save or delete) in their transaction.
        for model in (UseOfForceReport, CedUse):
            pre_save.connect(signals.before_save, sender=model)
            post_save.connect(signals.after_save, sender=model)
            pre_delete.connect(signals.before_delete, sender=model)
            post_delete.connect(signals.after_delete, sender=model)
        # A batch that succeeds is a new data version: pages say it is being summarised.
        post_save.connect(signals.batch_saved, sender=ImportBatch)
