from django.apps import AppConfig
from django.db.models.signals import post_migrate


class ForcesConfig(AppConfig):
    name = "forces"

    def ready(self):
        from forces.services import ensure_role_groups

        # Permissions only exist after migrate has run, so the groups are set up then.
        post_migrate.connect(ensure_role_groups, sender=self)
