from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, render

from forces.queries import role_of
from incidents.queries import UNIT_OF_COUNT, reports_visible_to


@login_required
def report_list(request):
    if not (request.user.is_superuser or role_of(request.user)):
        raise PermissionDenied("Your account has no role with access to records.")
    reports = reports_visible_to(request.user).select_related("force", "area")
    page = Paginator(reports, 50).get_page(request.GET.get("page"))
    return render(request, "incidents/report_list.html", {"page": page, "unit": UNIT_OF_COUNT})


@login_required
def report_detail(request, pk):
    # Another force's report is "not found", never "forbidden": its existence is not shown.
    report = get_object_or_404(reports_visible_to(request.user).select_related("force", "area", "import_batch"), pk=pk)
    return render(request, "incidents/report_detail.html", {"report": report, "ced_uses": report.ced_uses.all()})
