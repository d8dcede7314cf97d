import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from forces.forms import ApiTokenForm
from forces.models import ApiToken
from forces.queries import forces_for_home
from forces.roles import TOKEN_ROLES, force_of, role_of, role_required
from forces.services import create_api_token, revoke_api_token
from oversight.numbers import is_whole_number

logger = logging.getLogger(__name__)


def role_context(request):
    """The signed-in user's role and force, for the navigation of every page."""
    return {"user_role": role_of(request.user), "user_force": force_of(request.user)}


@require_safe
def home(request):
    return render(request, "forces/home.html", {"forces": forces_for_home()})


@require_safe
def healthz(request):
    """200 when the database answers; 503 otherwise, for load balancers and compose."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:  # noqa: BLE001 - any database failure means unhealthy
        logger.exception("Health check: the database did not answer")
        return JsonResponse({"status": "unavailable", "database": "unreachable"}, status=503)
    return JsonResponse({"status": "ok", "database": "ok"})


# --- API tokens ----------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
@role_required(
    TOKEN_ROLES, "API tokens are for PCC staff, force data officers and API clients of a force.", with_force=True
)
def api_tokens(request):
    """The user's own API tokens: make one (its key is shown once), revoke one."""
    own_force = None if request.user.is_superuser else force_of(request.user)
    new_key = None
    form = ApiTokenForm(own_force=own_force)
    if request.method == "POST" and "revoke" in request.POST:
        if not is_whole_number(request.POST["revoke"]):
            messages.error(request, f"The token to revoke could not be read: {request.POST['revoke']!r}.")
            return redirect("api-tokens")
        token = get_object_or_404(ApiToken, pk=request.POST["revoke"], user=request.user)
        revoke_api_token(token)
        messages.success(request, f"Token “{token.name}” revoked: its key no longer works.")
        return redirect("api-tokens")
    if request.method == "POST":
        form = ApiTokenForm(request.POST, own_force=own_force)
        if form.is_valid():
            _, new_key = create_api_token(user=request.user, **form.cleaned_data)
            form = ApiTokenForm(own_force=own_force)
    tokens = ApiToken.objects.filter(user=request.user).select_related("force").order_by("-created_at")
    response = render(request, "forces/api_tokens.html", {"form": form, "tokens": tokens, "new_key": new_key})
    response["Cache-Control"] = "no-store"  # the page may hold a key
    return response
