"""Roles and what each may do: every role set of the product, named once, and the checks that read them.

A user holds one role (a Django group of the same name) for one force (their ForceScope); a
superuser holds none and may everything. The sets below say which roles may reach a kind of page
or resource; which force's rows they then see is for each app's queries (`*_visible_to`). Views
ask with the `role_required` decorator, the API with a `RolePermission` subclass, and everything
else with `may`, always by a set's name, never by listing roles again.

What each role may change in the admin is `ROLE_PERMISSIONS` (Django model permissions), which
`ensure_role_groups` gives to each role's group after every migration.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.models import AnonymousUser, Group, User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Case, OuterRef, Subquery, Value, When
from django.http import HttpRequest, HttpResponseBase
from rest_framework import permissions
from rest_framework.request import Request

from forces.models import Force, ForceScope, Role

# Whoever makes a request: a signed-in user (the project keeps Django's User) or the anonymous one.
Person = User | AnonymousUser
ViewFunction = Callable[..., HttpResponseBase]

# --- the role sets ------------------------------------------------------------------------------

# Every role: a user whose account holds none (no role group) reaches no page that needs one.
ALL_ROLES = frozenset(Role)

# The force's own staff: PCC staff and force data officers. They browse the aggregate dashboards,
# follow the force's imports, sign in to the admin, and see the force's responses and actions.
FORCE_STAFF_ROLES = frozenset({Role.PCC_STAFF, Role.FORCE_DATA_OFFICER})
DASHBOARD_ROLES = FORCE_STAFF_ROLES
IMPORT_ROLES = FORCE_STAFF_ROLES
ADMIN_ROLES = FORCE_STAFF_ROLES
# Roles that see one force's use-of-force records in full, on the pages and through the API.
RECORD_ROLES = FORCE_STAFF_ROLES | {Role.API_CLIENT}
# Roles that make API tokens for their force: those that read its records through the API.
TOKEN_ROLES = RECORD_ROLES
# The one role that uploads use-of-force files (for its own force only).
UPLOAD_ROLES = frozenset({Role.FORCE_DATA_OFFICER})
# The force answers a panel's finding through its data officer. Asked with role_of, not may: a superuser
# works for no force, so answers for none.
RESPONSE_ROLES = frozenset({Role.FORCE_DATA_OFFICER})
# PCC staff run the panels, build quarterly reports and read audit trails.
PCC_ROLES = frozenset({Role.PCC_STAFF})
# Panel members (a chair is a member whose membership says so).
MEMBER_ROLES = frozenset({Role.PANEL_MEMBER})
# Roles that follow case samples and reviews.
SAMPLE_ROLES = frozenset({Role.PCC_STAFF, Role.PANEL_MEMBER})
# Roles that read the panels' findings, the force's responses and actions: through the API, an API
# client of the force too (the findings sent to the force for feedback).
FINDING_ROLES = frozenset({Role.PCC_STAFF, Role.PANEL_MEMBER, Role.FORCE_DATA_OFFICER, Role.API_CLIENT})
# The findings pages are for people: an API client, which has no pages but its tokens', is not among them.
FINDING_PAGE_ROLES = FINDING_ROLES - {Role.API_CLIENT}


# --- who a user is ------------------------------------------------------------------------------

# A request asks for its user's role several times (authentication, permissions, querysets);
# each user object keeps the answer, and the next request loads a new object.


def role_of(user: Person) -> Role | None:
    """The user's role, or None (anonymous users and users without a role group)."""
    if not isinstance(user, User):
        return None
    # Kept on the user for the request. getattr, not user.__dict__: request.user is a lazy object whose
    # own __dict__ never holds what is set on the user inside it.
    role: Role | None | bool = getattr(user, "_role", False)
    if role is False:
        names = {group.name for group in user.groups.all()}
        role = user._role = next((role for role in Role if role.value in names), None)  # type: ignore[attr-defined]
    return role  # type: ignore[return-value]


def role_name_of(user_field: str) -> Subquery:
    """A subquery: the name of the role group of the user in `user_field`, as role_of chooses it.

    Annotated on a query that loads users (an API token's, say), it saves role_of a query.
    """
    order = Case(*(When(name=role.value, then=Value(rank)) for rank, role in enumerate(Role)))
    names = Group.objects.filter(user=OuterRef(user_field), name__in=Role.values).order_by(order)
    return Subquery(names.values("name")[:1])


def keep_role(user: Person, name: str | None) -> None:
    """Keep on the user the role read with role_name_of, for role_of to answer without a query."""
    user._role = Role(name) if name else None  # type: ignore[union-attr]


def force_of(user: Person) -> Force | None:
    """The force a user is scoped to, or None (anonymous users, superusers)."""
    if not isinstance(user, User):
        return None
    try:
        # Kept on the user object by Django; loaded with the user where it was select_related.
        return user.force_scope.force
    except ForceScope.DoesNotExist:
        return None


# --- what a user may do -------------------------------------------------------------------------


def may(user: Person, roles: frozenset[Role], *, with_force: bool = False) -> bool:
    """Whether the user may do what `roles` may: a superuser always; others when their role is one of
    them and, `with_force`, they work for a force (what they reach is their force's)."""
    if getattr(user, "is_superuser", False):
        return True
    return role_of(user) in roles and (not with_force or force_of(user) is not None)


def role_required(
    roles: frozenset[Role], message: str, *, with_force: bool = False
) -> Callable[[ViewFunction], ViewFunction]:
    """A view decorator: anonymous callers are sent to sign in; signed-in users the roles do not allow
    get 403 with `message`, which the error page shows."""

    def decorator(view: ViewFunction) -> ViewFunction:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not may(request.user, roles, with_force=with_force):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        return checked

    return decorator


class RolePermission(permissions.BasePermission):
    """An API permission by role set: subclass it with `roles`, `message` and, where what is reached is
    the caller's force's, `with_force`."""

    roles: frozenset[Role] = frozenset()
    with_force = False
    message = "Your account's role may not use this resource."

    def has_permission(self, request: Request, view: Any) -> bool:
        return may(request.user, self.roles, with_force=self.with_force)


class HasRecordAccess(RolePermission):
    """Record-level data is for PCC staff, force data officers and API clients of the force."""

    roles = RECORD_ROLES
    with_force = True
    message = "Record-level data is for PCC staff, force data officers and API clients of the force."


# --- what each role may change in the admin ---------------------------------------------------

# What each role may do, as Django model permissions. Which force's rows a user sees is
# decided by their ForceScope (see incidents.queries), not by these.
ROLE_PERMISSIONS: dict[Role, dict[str, dict[str, str]]] = {
    Role.PCC_STAFF: {
        "forces": {
            "force": "view",
            "area": "view",
            "localauthority": "view",
            "populationbaseline": "view",
            "capabilityrecord": "view add change",
            "upliftdecision": "view add change",
            "publishedfigure": "view",
        },
        "incidents": {
            "useofforcereport": "view",
            "ceduse": "view",
            "importbatch": "view",
            "monthlysummary": "view",
            "alert": "view",
            "quarterlyreport": "view",
        },  # fmt: skip
        "scrutiny": {
            "panel": "view add change",
            "panelmember": "view add change",
            "meeting": "view add change",
            "casesample": "view add",
            "sampledcase": "view add",
            "review": "view",
            "caseview": "view",
            "finding": "view add change",
            "forceresponse": "view",
            "action": "view add change",
            "actionupdate": "view add",
        },
    },
    # A chair is a panel member whose membership says so: chairs add cases, open them at the
    # meeting and record findings, on the scrutiny pages, which check the membership.
    Role.PANEL_MEMBER: {
        "scrutiny": {
            "panel": "view",
            "meeting": "view",
            "casesample": "view add",
            "sampledcase": "view add change",
            "review": "view add change",
            "caseview": "add",
            "finding": "view add",
        },
    },
    Role.FORCE_DATA_OFFICER: {
        "forces": {
            "force": "view",
            "area": "view change",
            "localauthority": "view",
            "populationbaseline": "view",
            "capabilityrecord": "view add change",
            "upliftdecision": "view",
            "publishedfigure": "view",
        },
        "incidents": {
            "useofforcereport": "view add change",
            "ceduse": "view add change",
            "importbatch": "view",
            "monthlysummary": "view",
            "alert": "view",
            "quarterlyreport": "view",
        },  # fmt: skip
        "scrutiny": {"finding": "view", "forceresponse": "view add", "action": "view", "actionupdate": "view"},
    },
    Role.API_CLIENT: {
        "forces": {
            "force": "view",
            "area": "view",
            "localauthority": "view",
            "populationbaseline": "view",
            "publishedfigure": "view",
        },
        "incidents": {"useofforcereport": "view", "ceduse": "view", "importbatch": "view"},
    },
}
