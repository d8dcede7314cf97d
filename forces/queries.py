from forces.models import Force, ForceScope, Role

# Roles that see one force's use-of-force records in full.
RECORD_ROLES = {Role.PCC_STAFF, Role.FORCE_DATA_OFFICER, Role.API_CLIENT}
# Roles that browse the aggregate dashboards.
DASHBOARD_ROLES = {Role.PCC_STAFF, Role.FORCE_DATA_OFFICER}


def role_of(user):
    """The user's role, or None (anonymous users and users without a role group)."""
    if not user.is_authenticated:
        return None
    names = {group.name for group in user.groups.all()}
    return next((role for role in Role if role.value in names), None)


def force_of(user):
    """The force a user is scoped to, or None (anonymous users, superusers)."""
    if not user.is_authenticated:
        return None
    scope = ForceScope.objects.select_related("force").filter(user=user).first()
    return scope.force if scope else None


def forces_for_home():
    return Force.objects.order_by("name")
