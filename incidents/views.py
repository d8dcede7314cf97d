from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from forces.roles import ALL_ROLES, IMPORT_ROLES, force_of, role_required
from incidents.filters import ReportFilter
from incidents.forms import UploadForm
from incidents.imports.uploads import has_rejects, reject_file, store_upload, uploaded_file
from incidents.models import ImportBatch
from incidents.queries import (
    UNIT_OF_COUNT,
    batches_visible_to,
    may_upload,
    reports_visible_to,
)
from incidents.recovery import retry
from incidents.report_pages import report_page
from incidents.tasks import NOT_QUEUED, UNFINISHED, enqueue_import, rows_read_so_far


@require_safe
@login_required
@role_required(ALL_ROLES, "Your account has no role with access to records.")
def report_list(request):
    """The reports a user may open, filtered as the API's reports are: where a chart's bar or point leads."""
    params = request.GET.copy()
    for paging in ("page", "after", "before"):
        params.pop(paging, None)
    # Only the columns the list shows: a report has some eighty.
    listed = reports_visible_to(request.user).select_related("force", "area")
    listed = listed.only("occurred_on", "highest_ced_level", "force__name", "area__name")
    filters = ReportFilter(params, queryset=listed)
    reports = filters.qs if filters.is_valid() else filters.queryset.none()
    page = report_page(reports, after=request.GET.get("after"), before=request.GET.get("before"))
    context = {
        "page": page, "unit": UNIT_OF_COUNT, "filters": filters, "query": params.urlencode(),
        "applied": applied_filters(filters) if filters.is_valid() else [],
    }  # fmt: skip
    return render(request, "incidents/report_list.html", context)


def applied_filters(filters):
    """(label, values) of each filter in use, for the sentence above the list."""
    applied = []
    for name, value in filters.form.cleaned_data.items():
        if value in (None, "", []):
            continue
        field = filters.form.fields[name]
        choices = dict(getattr(field, "choices", ()))
        values = value if isinstance(value, list) else [value]
        shown = [str(choices.get(v, v)) for v in values]
        label = str(field.label or name).replace("_", " ")
        applied.append((label[:1].upper() + label[1:], ", ".join(shown)))
    return applied


# --- imports ------------------------------------------------------------------------------


IMPORTS_ARE_FOR = "Imports are for force data officers and PCC staff."


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(IMPORT_ROLES, IMPORTS_ARE_FOR)
def import_list(request):
    form = None
    if may_upload(request.user):
        # A superuser belongs to no force: the form asks which force the file is for.
        own_force = None if request.user.is_superuser else force_of(request.user)
        if request.method == "POST":
            form = UploadForm(request.POST, request.FILES, force=own_force)
            if form.is_valid():
                batch = store_upload(form.cleaned_data["file"], user=request.user, **form.upload_options())
                if not enqueue_import(batch.pk):
                    messages.warning(request, NOT_QUEUED)
                return redirect("import-batch-detail", pk=batch.pk)
        else:
            form = UploadForm(force=own_force)
    elif request.method == "POST":
        raise PermissionDenied("Only force data officers upload use-of-force files.")
    page = Paginator(batches_visible_to(request.user), 50).get_page(request.GET.get("page"))
    for batch in page:
        batch.rows_read_so_far = rows_read_so_far(batch)
    context = {
        "page": page,
        "form": form,
        "show_force": request.user.is_superuser,
        "max_upload_size": settings.IMPORT_UPLOAD_MAX_BYTES,
        "unit": UNIT_OF_COUNT,
    }
    return render(request, "incidents/import_list.html", context)


@require_safe
@login_required
@role_required(IMPORT_ROLES, IMPORTS_ARE_FOR)
def import_detail(request, pk):
    # Another force's batch is "not found", never "forbidden": its existence is not shown.
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    context = {
        "batch": batch,
        "running": batch.status in UNFINISHED,
        "rows_read": rows_read_so_far(batch),
        "has_rejects": has_rejects(batch),
        "may_retry": may_retry(request.user, batch),
        "unit": UNIT_OF_COUNT,
    }
    return render(request, "incidents/import_detail.html", context)


def may_retry(user, batch):
    """A failed import is tried again by those who may upload, from the file it kept."""
    return batch.status == ImportBatch.Status.FAILED and may_upload(user) and uploaded_file(batch).is_file()


@require_POST
@login_required
@role_required(IMPORT_ROLES, IMPORTS_ARE_FOR)
def import_retry(request, pk):
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    if not may_retry(request.user, batch):
        raise PermissionDenied("Only a failed import whose file is kept is tried again, by a force data officer.")
    retry(batch)
    if not enqueue_import(batch.pk):
        messages.warning(request, NOT_QUEUED)
    return redirect("import-batch-detail", pk=batch.pk)


@require_safe
@login_required
@role_required(IMPORT_ROLES, IMPORTS_ARE_FOR)
def import_status(request, pk):
    """What the batch page's script polls: status and rows read, small and uncached."""
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    response = JsonResponse(
        {
            "id": batch.pk,
            "status": batch.status,
            "status_label": batch.get_status_display(),
            "finished": batch.status not in UNFINISHED,
            "rows_read": rows_read_so_far(batch),
        }
    )
    response["Cache-Control"] = "no-store"
    return response


@require_safe
@login_required
@role_required(IMPORT_ROLES, IMPORTS_ARE_FOR)
def import_rejects(request, pk):
    """The rows a "skip invalid rows" import left out, with their problems, as the import wrote them."""
    batch = get_object_or_404(batches_visible_to(request.user), pk=pk)
    if not has_rejects(batch):
        raise Http404("This import has no reject file.")
    path = reject_file(batch)
    return FileResponse(path.open("rb"), as_attachment=True, filename=path.name, content_type="text/csv")
