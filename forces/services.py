import csv
from pathlib import Path

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from forces.models import Area, Force, ForceScope, Role


class InputError(Exception):
    """Input that cannot be imported; the message names the row, field and value."""


# (data.police.uk id, name, Home Office name, ONS police force area name, Home Office region)
FORCES = (
    ("avon-and-somerset", "Avon and Somerset Constabulary", "Avon & Somerset", "Avon and Somerset", "South West"),
    ("bedfordshire", "Bedfordshire Police", "Bedfordshire", "Bedfordshire", "East of England"),
    ("cambridgeshire", "Cambridgeshire Constabulary", "Cambridgeshire", "Cambridgeshire", "East of England"),
    ("cheshire", "Cheshire Constabulary", "Cheshire", "Cheshire", "North West"),
    ("city-of-london", "City of London Police", "City of London", "London, City of", "London"),
    ("cleveland", "Cleveland Police", "Cleveland", "Cleveland", "North East"),
    ("cumbria", "Cumbria Constabulary", "Cumbria", "Cumbria", "North West"),
    ("derbyshire", "Derbyshire Constabulary", "Derbyshire", "Derbyshire", "East Midlands"),
    ("devon-and-cornwall", "Devon & Cornwall Police", "Devon & Cornwall", "Devon & Cornwall", "South West"),
    ("dorset", "Dorset Police", "Dorset", "Dorset", "South West"),
    ("durham", "Durham Constabulary", "Durham", "Durham", "North East"),
    ("dyfed-powys", "Dyfed-Powys Police", "Dyfed-Powys", "Dyfed-Powys", "Wales"),
    ("essex", "Essex Police", "Essex", "Essex", "East of England"),
    ("gloucestershire", "Gloucestershire Constabulary", "Gloucestershire", "Gloucestershire", "South West"),
    ("greater-manchester", "Greater Manchester Police", "Greater Manchester", "Greater Manchester", "North West"),
    ("gwent", "Gwent Police", "Gwent", "Gwent", "Wales"),
    ("hampshire", "Hampshire Constabulary", "Hampshire", "Hampshire", "South East"),
    ("hertfordshire", "Hertfordshire Constabulary", "Hertfordshire", "Hertfordshire", "East of England"),
    ("humberside", "Humberside Police", "Humberside", "Humberside", "Yorkshire and the Humber"),
    ("kent", "Kent Police", "Kent", "Kent", "South East"),
    ("lancashire", "Lancashire Constabulary", "Lancashire", "Lancashire", "North West"),
    ("leicestershire", "Leicestershire Police", "Leicestershire", "Leicestershire", "East Midlands"),
    ("lincolnshire", "Lincolnshire Police", "Lincolnshire", "Lincolnshire", "East Midlands"),
    ("merseyside", "Merseyside Police", "Merseyside", "Merseyside", "North West"),
    ("metropolitan", "Metropolitan Police Service", "Metropolitan", "Metropolitan Police", "London"),
    ("norfolk", "Norfolk Constabulary", "Norfolk", "Norfolk", "East of England"),
    ("north-wales", "North Wales Police", "North Wales", "North Wales", "Wales"),
    ("north-yorkshire", "North Yorkshire Police", "North Yorkshire", "North Yorkshire", "Yorkshire and the Humber"),
    ("northamptonshire", "Northamptonshire Police", "Northamptonshire", "Northamptonshire", "East Midlands"),
    ("northumbria", "Northumbria Police", "Northumbria", "Northumbria", "North East"),
    ("nottinghamshire", "Nottinghamshire Police", "Nottinghamshire", "Nottinghamshire", "East Midlands"),
    ("south-wales", "South Wales Police", "South Wales", "South Wales", "Wales"),
    ("south-yorkshire", "South Yorkshire Police", "South Yorkshire", "South Yorkshire", "Yorkshire and the Humber"),
    ("staffordshire", "Staffordshire Police", "Staffordshire", "Staffordshire", "West Midlands"),
    ("suffolk", "Suffolk Constabulary", "Suffolk", "Suffolk", "East of England"),
    ("surrey", "Surrey Police", "Surrey", "Surrey", "South East"),
    ("sussex", "Sussex Police", "Sussex", "Sussex", "South East"),
    ("thames-valley", "Thames Valley Police", "Thames Valley", "Thames Valley", "South East"),
    ("warwickshire", "Warwickshire Police", "Warwickshire", "Warwickshire", "West Midlands"),
    ("west-mercia", "West Mercia Police", "West Mercia", "West Mercia", "West Midlands"),
    ("west-midlands", "West Midlands Police", "West Midlands", "West Midlands", "West Midlands"),
    ("west-yorkshire", "West Yorkshire Police", "West Yorkshire", "West Yorkshire", "Yorkshire and the Humber"),
    ("wiltshire", "Wiltshire Police", "Wiltshire", "Wiltshire", "South West"),
    ("btp", "British Transport Police", "British Transport Police", "", ""),
)


@transaction.atomic
def load_forces():
    """Create or refresh the 44 forces. Returns (created, updated) counts."""
    created = updated = 0
    for force_id, name, home_office_name, ons_name, region in FORCES:
        _, was_created = Force.objects.update_or_create(
            id=force_id,
            defaults={"name": name, "home_office_name": home_office_name, "ons_name": ons_name, "region": region},
        )
        created += was_created
        updated += not was_created
    return created, updated


AREA_COLUMNS = ("CSP16CD", "CSP16NM", "PFA16CD", "PFA16NM")


def read_area_lookup(path):
    """Rows of the ONS LAD → CSP → PFA lookup as (CSP code, CSP name, PFA code, PFA name)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes).")
    # utf-8-sig strips the byte-order mark the ONS puts before the first header.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        try:
            reader = csv.DictReader(handle)
            header = reader.fieldnames or []
            missing = [column for column in AREA_COLUMNS if column not in header]
            if missing:
                raise InputError(f"{path.name}: not an ONS LAD→CSP→PFA lookup; missing column(s) {', '.join(missing)}.")
            rows = []
            for row_number, row in enumerate(reader, start=2):
                values = tuple((row[column] or "").strip() for column in AREA_COLUMNS)
                for column, value in zip(AREA_COLUMNS, values, strict=True):
                    if not value:
                        raise InputError(f"row {row_number}, {column}: empty value; expected a code or name.")
                rows.append((row_number, *values))
        except UnicodeDecodeError as error:
            raise InputError(f"{path.name}: not a UTF-8 text file ({error.reason}).") from None
    if not rows:
        raise InputError(f"{path.name}: the file has a header but no rows.")
    return rows


@transaction.atomic
def import_areas(path):
    """Create or refresh each force's areas from the ONS lookup; all or nothing.

    Returns {force id: number of areas}.
    """
    forces_by_ons_name = {force.ons_name: force for force in Force.objects.exclude(ons_name="")}
    if not forces_by_ons_name:
        raise InputError("No forces are loaded; run load_forces first.")
    areas = {}
    for row_number, csp_code, csp_name, pfa_code, pfa_name in read_area_lookup(path):
        force = forces_by_ons_name.get(pfa_name)
        if force is None:
            raise InputError(f"row {row_number}, PFA16NM: '{pfa_name}' is not a known police force area.")
        areas[(force.id, csp_code)] = (force, csp_name, pfa_code)
    for (force_id, csp_code), (force, csp_name, pfa_code) in areas.items():
        kind = Area.Kind.BOROUGH if force_id == "metropolitan" else Area.Kind.CSP
        Area.objects.update_or_create(force=force, code=csp_code, defaults={"name": csp_name, "kind": kind})
        if force.pfa_code != pfa_code:
            force.pfa_code = pfa_code
            force.save(update_fields=["pfa_code"])
    counts = {}
    for force_id, _ in areas:
        counts[force_id] = counts.get(force_id, 0) + 1
    return counts


# What each role may do, as Django model permissions. Which force's rows a user sees is
# decided by their ForceScope (see incidents.queries), not by these.
ROLE_PERMISSIONS = {
    Role.PCC_STAFF: {
        "forces": {
            "force": "view",
            "area": "view",
            "populationbaseline": "view",
            "capabilityrecord": "view add change",
            "upliftdecision": "view add change",
            "publishedfigure": "view",
        },
        "incidents": {"useofforcereport": "view", "ceduse": "view", "importbatch": "view"},
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
        },
    },
    Role.PANEL_MEMBER: {
        "scrutiny": {
            "panel": "view",
            "meeting": "view",
            "casesample": "view",
            "sampledcase": "view",
            "review": "view add change",
            "finding": "view",
        },
    },
    Role.FORCE_DATA_OFFICER: {
        "forces": {
            "force": "view",
            "area": "view change",
            "populationbaseline": "view",
            "capabilityrecord": "view add change",
            "upliftdecision": "view",
            "publishedfigure": "view",
        },
        "incidents": {"useofforcereport": "view add change", "ceduse": "view add change", "importbatch": "view"},
        "scrutiny": {"finding": "view", "forceresponse": "view add", "action": "view"},
    },
    Role.API_CLIENT: {
        "forces": {"force": "view", "area": "view", "populationbaseline": "view", "publishedfigure": "view"},
        "incidents": {"useofforcereport": "view", "ceduse": "view", "importbatch": "view"},
    },
}

# Roles that sign in to the admin site (always scoped to their force there).
STAFF_ROLES = {Role.PCC_STAFF, Role.FORCE_DATA_OFFICER}


def ensure_role_groups(**kwargs):
    """Create each role's group with exactly its permissions (safe to run again)."""
    # post_migrate reaches apps one by one; make sure every app's permissions exist now.
    for app_config in django_apps.get_app_configs():
        create_permissions(app_config, verbosity=0)
    for role, apps in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        permissions = [
            Permission.objects.get(content_type__app_label=app, codename=f"{action}_{model}")
            for app, models in apps.items()
            for model, actions in models.items()
            for action in actions.split()
        ]
        group.permissions.set(permissions)


@transaction.atomic
def create_role_user(username, role, force, password):
    """Create (or update) a user holding one role for one force."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = role in STAFF_ROLES
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    ForceScope.objects.update_or_create(user=user, defaults={"force": force})
    return user
