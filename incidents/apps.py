from django.apps import AppConfig


class IncidentsConfig(AppConfig):
    name = "incidents"

    def ready(self):
        from incidents.models import INTEGRITY_RULES
        from oversight import triggers

        triggers.connect(self, INTEGRITY_RULES)
