import json

from auditlog.models import LogEntry
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from audit.queries import TRAILS, entry_row, report_dossier, trail, trail_record
from forces.roles import PCC_ROLES, role_required

AUDIT_TRAILS_ARE_FOR = "Audit trails are for PCC staff."


@require_safe
@login_required
@role_required(PCC_ROLES, AUDIT_TRAILS_ARE_FOR, with_force=True)
def record_trail(request, kind, pk):
    """Every recorded change of one record: who, when, and each value before and after. Read only."""
    if kind not in TRAILS:
        raise Http404("No such kind of record.")
    # Another force's record is "not found": its existence is not shown.
    record = trail_record(user=request.user, kind=kind, pk=pk)
    if record is None:
        raise Http404("No such record.")
    entries = [entry_row(entry) for entry in trail(record).reverse()]
    return render(request, "audit/trail.html", {"record": record, "kind": kind, "entries": entries})


@require_safe
@login_required
@role_required(PCC_ROLES, AUDIT_TRAILS_ARE_FOR, with_force=True)
def report_export(request, pk):
    """Everything held about one report, as JSON, for an access request; the export itself is logged."""
    report = trail_record(user=request.user, kind="reports", pk=pk)
    if report is None:
        raise Http404("No such report.")
    body = json.dumps(report_dossier(report, user=request.user), cls=DjangoJSONEncoder, indent=2)
    LogEntry.objects.log_create(report, action=LogEntry.Action.ACCESS, changes=None, force_log=True)
    response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="report-{report.pk}.json"'
    response["Cache-Control"] = "no-store"
    return response
