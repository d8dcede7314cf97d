"""The audit trail of a record, who may read it, and everything held about one report.

Records written one at a time (the admin, the API, the scrutiny pages) have an entry per
create, change and delete, with the values before and after. Reports written in bulk by an
import (COPY, no model signals) have none of their own: the import is the event, recorded by
its ImportBatch (who uploaded which file, when, what it added, changed and withdrawn) and its
own entries; each report names the batch that last wrote it.
"""

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils import timezone

from forces.models import CapabilityRecord, UpliftDecision
from forces.roles import force_of
from incidents.models import CedUse, ImportBatch, UseOfForceReport
from incidents.queries import UNIT_OF_COUNT
from scrutiny.models import CaseView, Review, SampledCase
from scrutiny.queries import actions_visible_to, findings_visible_to, responses_visible_to, reviews_visible_to


def _of_own_force(model, path="force"):
    def visible(user):
        records = model.objects.all()
        return records if user.is_superuser else records.filter(**{path: force_of(user)})

    return visible


# The records with a trail page, /audit/<kind>/<pk>/, and which of them a reader may see. Reports
# include withdrawn ones; reviews are PCC staff's once submitted, as everywhere.
TRAILS = {
    "reports": _of_own_force(UseOfForceReport),
    "imports": _of_own_force(ImportBatch),
    "capability-records": _of_own_force(CapabilityRecord),
    "uplift-decisions": _of_own_force(UpliftDecision),
    "reviews": reviews_visible_to,
    "findings": findings_visible_to,
    "force-responses": responses_visible_to,
    "actions": actions_visible_to,
}


def trail_record(*, user, kind, pk):
    """The record of `kind` with this pk if the user may read its trail, else None."""
    return TRAILS[kind](user).filter(pk=pk).first()


def trail(record):
    """The audit entries of a record, oldest first; a report's include those of its CED uses."""
    entries = Q(content_type=ContentType.objects.get_for_model(record), object_id=record.pk)
    if isinstance(record, UseOfForceReport):
        entries |= Q(content_type=ContentType.objects.get_for_model(CedUse), additional_data__report=record.pk)
    return LogEntry.objects.filter(entries).select_related("actor", "content_type").order_by("timestamp", "pk")


def actor_name(entry):
    """Who made a change: the user, the e-mail address of a deleted one, or the system (a task, a command)."""
    if entry.actor is not None:
        return entry.actor.get_username()
    return entry.actor_email or "the system (an import, a task or a command)"


def shown(value):
    # django-auditlog keeps values as their text, an absent one as "None".
    return None if value == "None" else value


def field_label(model, name):
    try:
        return str(getattr(model._meta.get_field(name), "verbose_name", name))
    except FieldDoesNotExist:  # a field since removed: its name is all there is
        return name


def entry_row(entry):
    """One entry as plain data: when, who, what, and each field's value before and after."""
    changes = entry.changes_dict.items() if entry.action != LogEntry.Action.ACCESS else []
    model = entry.content_type.model_class()
    return {
        "timestamp": entry.timestamp,
        "actor": actor_name(entry),
        "remote_addr": entry.remote_addr,
        "record": f"{entry.content_type.model_class()._meta.verbose_name} {entry.object_pk}",
        "action": entry.get_action_display(),
        "changes": {
            field: {"label": field_label(model, field), "before": shown(values[0]), "after": shown(values[1])}
            for field, values in changes
        },
    }


# --- everything held about one report (an access request) ---------------------------------------


def fields_of(record, leave_out=()):
    return {f.attname: getattr(record, f.attname) for f in record._meta.concrete_fields if f.name not in leave_out}


def report_dossier(report, *, user=None):
    """Everything held about one report, as JSON-ready data: the record, its devices, where it came
    from, what the panels made of it, and its audit trail.

    With `user`, the panels' work is what that user may see of it (PCC staff: submitted reviews
    only); without (the command an administrator runs), all of it, drafts included.
    """
    batch = report.import_batch
    cases = SampledCase.objects.filter(report=report).select_related("sample__panel", "sample__meeting")
    reviews = Review.objects.all() if user is None else reviews_visible_to(user)
    findings = findings_visible_to(user) if user else None
    scrutiny = []
    for case in cases.order_by("pk"):
        finding = getattr(case, "finding", None)
        if finding is not None and findings is not None and not findings.filter(pk=finding.pk).exists():
            finding = None
        scrutiny.append(
            {
                "case": fields_of(case),
                "sample": fields_of(case.sample) | {"panel_name": case.sample.panel.name},
                "viewed_at": list(CaseView.objects.filter(sampled_case=case).values_list("viewed_at", flat=True)),
                "reviews": [fields_of(review) for review in reviews.filter(sampled_case=case).order_by("pk")],
                "finding": fields_of(finding) if finding else None,
                "responses": [fields_of(r) for r in finding.responses.order_by("pk")] if finding else [],
                "actions": [
                    fields_of(action) | {"updates": [fields_of(u) for u in action.updates.order_by("pk")]}
                    for action in (finding.actions.order_by("pk") if finding else [])
                ],
            }
        )
    return {
        "exported_at": timezone.now(),
        "unit_of_count": UNIT_OF_COUNT,
        "report": fields_of(report, leave_out={"import_batch", "source_row", "source_key", "content_hash"}),
        "ced_uses": [fields_of(use) for use in report.ced_uses.order_by("device_number")],
        "provenance": {
            "source_key": report.source_key,
            "source_row": report.source_row,
            "data_version": report.data_version,
            "withdrawn_in_version": report.withdrawn_in_version,
            "import": batch
            and fields_of(batch, leave_out={"summary_cells"})
            | {"uploaded_by": batch.uploaded_by.get_username() if batch.uploaded_by else None},
        },
        "scrutiny": scrutiny,
        "audit_trail": [entry_row(entry) for entry in trail(report)],
    }
