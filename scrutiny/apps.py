from django.apps import AppConfig


class ScrutinyConfig(AppConfig):
    name = "scrutiny"

    def ready(self):
        from oversight import triggers
        from scrutiny.models import INTEGRITY_RULES

        triggers.connect(self, INTEGRITY_RULES)
