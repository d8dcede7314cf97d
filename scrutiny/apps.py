from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save


class ScrutinyConfig(AppConfig):
    name = "scrutiny"

    def ready(self):
        from forces import versions
        from oversight import triggers
        from scrutiny.models import (
            INTEGRITY_RULES,
            Action,
            ActionUpdate,
            CaseSample,
            Finding,
            ForceResponse,
            Meeting,
            Panel,
            Review,
            SampledCase,
        )

        triggers.connect(self, INTEGRITY_RULES)
        # The panels' work the dashboards and public pages count (findings, responses, actions, meetings
        # and samples): a change moves the figures version on. Rows only their own pages show do not.
        for model in (Panel, Meeting, CaseSample, SampledCase, Review, Finding, ForceResponse, Action, ActionUpdate):
            for signal in (post_save, post_delete):
                signal.connect(versions.figures_changed, sender=model)
