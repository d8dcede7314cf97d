"""The checks the panels' pages share: who is PCC staff or a member, and which force's rows they reach."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from forces.roles import (
    MEMBER_ROLES,
    PCC_ROLES,
    force_of,
    may,
    role_of,
)

PANELS_ARE_RUN_BY = "Panels are run by PCC staff."


def require(condition, message):
    if not condition:
        raise PermissionDenied(message)


def is_pcc(user):
    return may(user, PCC_ROLES)


def is_member(user):
    # Not a superuser: a member's pages need a membership, which a superuser has not.
    return role_of(user) in MEMBER_ROLES


def own_force(queryset, user, path):
    """The rows of the user's force (a superuser's: all)."""
    return queryset if user.is_superuser else queryset.filter(**{path: force_of(user)})


def refused(request, barrier):
    """A member who may not review today is told why, and by whom it is put right."""
    return render(request, "scrutiny/barrier.html", {"barrier": barrier}, status=403)


def failed(form, error):
    form.add_error(None, error)
