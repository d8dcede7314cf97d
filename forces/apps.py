from django.apps import AppConfig
from django.db.models.signals import post_delete, post_migrate, post_save


class ForcesConfig(AppConfig):
    name = "forces"

    def ready(self):
        from forces import versions
        from forces.models import Area, CapabilityRecord, Edition, LocalAuthority, PopulationBaseline, PublishedFigure
        from forces.services import ensure_role_groups

        # Permissions only exist after migrate has run, so the groups are set up then.
        post_migrate.connect(ensure_role_groups, sender=self)
        # What the pages show of a force besides its reports: a change moves its figures version on.
        for model in (Area, LocalAuthority, PopulationBaseline, CapabilityRecord, Edition, PublishedFigure):
            for signal in (post_save, post_delete):
                signal.connect(versions.figures_changed, sender=model)
