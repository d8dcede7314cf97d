import csv
import hashlib
import io
import re
import secrets
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from django.apps import apps as django_apps
from django.contrib.auth import get_user_model
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission, User
from django.db import transaction
from django.utils import timezone

from forces.census import CensusCodeError, UnknownCodes, census_units
from forces.local_authority_changes import latest_code
from forces.models import (
    ApiToken,
    Area,
    Force,
    ForcePopulationBaseline,
    ForceScope,
    LocalAuthority,
    PopulationBaseline,
    Role,
)
from forces.roles import ADMIN_ROLES, ROLE_PERMISSIONS
from forces.versions import bump_figures_version
from oversight.numbers import is_whole_number


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
def load_forces() -> tuple[int, int]:
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


LOOKUP_COLUMNS = ("LAD{}CD", "LAD{}NM", "CSP{}CD", "CSP{}NM", "PFA{}CD", "PFA{}NM")


def lookup_columns(header: Sequence[str]) -> tuple[str, ...]:
    """The lookup's columns in the vintage the file has (LAD16CD…, LAD21CD…), newest if several.

    Census 2021 tables use the codes of 2021 and later, so their population sums need a
    lookup of the same vintage.
    """
    years = sorted(match.group(1) for name in header if (match := re.fullmatch(r"LAD(\d\d)CD", name)))
    return tuple(column.format(years[-1] if years else "16") for column in LOOKUP_COLUMNS)


def read_area_lookup(path: str | Path) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    """The ONS LAD → CSP → PFA lookup: its column names, and its rows as (row number, LAD code,
    LAD name, CSP code, CSP name, PFA code, PFA name)."""
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
            columns = lookup_columns(header)
            missing = [column for column in columns if column not in header]
            if missing:
                raise InputError(f"{path.name}: not an ONS LAD→CSP→PFA lookup; missing column(s) {', '.join(missing)}.")
            rows = []
            for row_number, row in enumerate(reader, start=2):
                values = tuple((row[column] or "").strip() for column in columns)
                for column, value in zip(columns, values, strict=True):
                    if not value:
                        raise InputError(f"row {row_number}, {column}: empty value; expected a code or name.")
                rows.append((row_number, *values))
        except UnicodeDecodeError as error:
            raise InputError(f"{path.name}: not a UTF-8 text file ({error.reason}).") from None
    if not rows:
        raise InputError(f"{path.name}: the file has a header but no rows.")
    return columns, rows


def official_area(force: Force, code: str, name: str, kind: str, row_number: int, name_column: str) -> Area:
    """The force's area of this ONS code, made or brought up to date from the lookup.

    An area the force already has by this name (created from a borough named in a force's
    records, say, or the demo's) is the same area: it takes the code, keeping its reports.
    """
    by_code = Area.objects.filter(force=force, code=code).first()
    by_name = Area.objects.filter(force=force, name__iexact=name).first()
    if by_code and by_name and by_code != by_name:
        raise InputError(
            f"row {row_number}, {name_column}: '{name}' is the name of the force's area {by_name.code}, "
            f"and {code} is its area '{by_code.name}'; merge the two in the admin, then import again."
        )
    area = by_code or by_name or Area(force=force)
    area.code, area.name, area.kind, area.needs_review = code, name, kind, False
    area.save()
    return area


@transaction.atomic
def import_areas(path: str | Path) -> tuple[dict[str, int], int]:
    """Create or refresh each force's areas and their local authorities from the ONS lookup;
    all or nothing.

    Returns ({force id: number of areas}, number of local authorities).
    """
    forces_by_ons_name = {force.ons_name: force for force in Force.objects.exclude(ons_name="")}
    if not forces_by_ons_name:
        raise InputError("No forces are loaded; run load_forces first.")
    areas: dict[tuple[str, str], tuple[Force, str, str, int]] = {}
    local_authorities: dict[str, tuple[int, str, str, str]] = {}
    columns, rows = read_area_lookup(path)
    lad_column, csp_column, pfa_column = columns[0], columns[3], columns[5]
    lookup_year = 2000 + int(lad_column[3:5])
    for row_number, lad_code, lad_name, csp_code, csp_name, pfa_code, pfa_name in rows:
        force = forces_by_ons_name.get(pfa_name)
        if force is None:
            raise InputError(f"row {row_number}, {pfa_column}: '{pfa_name}' is not a known police force area.")
        # A district in two areas would be counted twice when census tables are summed to areas.
        if lad_code in local_authorities:
            raise InputError(
                f"row {row_number}, {lad_column}: '{lad_code}' appears twice (first on row "
                f"{local_authorities[lad_code][0]}); expected each local authority once."
            )
        areas[(force.id, csp_code)] = (force, csp_name, pfa_code, row_number)
        local_authorities[lad_code] = (row_number, lad_name, force.id, csp_code)
    area_objects = {}
    for (force_id, csp_code), (force, csp_name, pfa_code, row_number) in areas.items():
        kind = Area.Kind.BOROUGH if force_id == "metropolitan" else Area.Kind.CSP
        area_objects[(force_id, csp_code)] = official_area(force, csp_code, csp_name, kind, row_number, csp_column)
        if force.pfa_code != pfa_code:
            force.pfa_code = pfa_code
            force.save(update_fields=["pfa_code"])
    for lad_code, (_, lad_name, force_id, csp_code) in local_authorities.items():
        LocalAuthority.objects.update_or_create(
            code=lad_code,
            defaults={"name": lad_name, "area": area_objects[(force_id, csp_code)], "lookup_year": lookup_year},
        )
    # A district this lookup knows by the code of the authority it became is no longer one: kept, its
    # residents would be summed twice, once under each code.
    superseded = [
        la.pk
        for la in LocalAuthority.objects.exclude(code__in=local_authorities)
        if latest_code(la.code) != la.code and latest_code(la.code) in local_authorities
    ]
    LocalAuthority.objects.filter(pk__in=superseded).delete()
    counts: dict[str, int] = {}
    for force_id, _ in areas:
        counts[force_id] = counts.get(force_id, 0) + 1
    bump_figures_version()  # areas and their residents are on every force's pages
    return counts, len(local_authorities)


CENSUS_YEAR = 2021
TS021_CODE_COLUMN = "geography code"
TS021_TOTAL_COLUMN = "Ethnic group: Total: All usual residents"
# The five Census 2021 group totals, as the published use-of-force groups. Census 2021 counts
# Chinese within "Asian, Asian British or Asian Welsh", as the Home Office has since 2019/20, so
# the group total is the right one; sub-group columns (those with a second colon) are ignored.
TS021_GROUP_COLUMNS = {
    "asian": "Ethnic group: Asian, Asian British or Asian Welsh",
    "black": "Ethnic group: Black, Black British, Black Welsh, Caribbean or African",
    "mixed": "Ethnic group: Mixed or Multiple ethnic groups",
    "white": "Ethnic group: White",
    "other": "Ethnic group: Other ethnic group",
}
TS021_COUNT_COLUMNS = {"total": TS021_TOTAL_COLUMN, **TS021_GROUP_COLUMNS}
# Nomis names the Census table the same way in every download, but spacing, case and a
# trailing "; measures: Value" vary between its download options.
MEASURES_SUFFIX = "; measures: value"
# Scotland and Northern Ireland run their own censuses and have no police force area here.
SKIPPED_COUNTRY_PREFIXES = ("S", "N")
MAX_CODES_LISTED = 50


def normalise_header(text: str) -> str:
    text = " ".join(text.replace("\ufeff", "").split()).lower()
    return text.removesuffix(MEASURES_SUFFIX)


def parse_census_count(text: str, row_number: int, column: str) -> int:
    value = text.strip().replace(",", "")
    if not is_whole_number(value):
        shown = f"'{text}'" if text.strip() else "empty"
        raise InputError(f"row {row_number}, {column}: {shown} is not a count; expected a whole number of residents.")
    return int(value)


# Nomis's bulk download holds the table at every level of geography; the lower-tier local
# authorities ("ltla") are the ones the lookups list.
CENSUS_MEMBER_SUFFIX = "-ltla.csv"


def open_census_table(path: Path) -> IO[str]:
    """The census CSV as text, or the table by local authority inside Nomis's ZIP of the whole table."""
    # utf-8-sig strips a byte-order mark if there is one, and reads plain UTF-8 as well.
    if not zipfile.is_zipfile(path):
        return path.open(encoding="utf-8-sig", newline="")
    with zipfile.ZipFile(path) as archive:
        names = [name for name in archive.namelist() if name.lower().endswith(CENSUS_MEMBER_SUFFIX)]
        if len(names) != 1:
            held = ", ".join(archive.namelist()[:10]) or "nothing"
            raise InputError(
                f"{path.name}: a ZIP file without one table by local authority (a CSV named …{CENSUS_MEMBER_SUFFIX}); "
                f"it holds {held}."
            )
        data = archive.read(names[0])
    return io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="")


def read_census_ethnic_groups(path: str | Path) -> tuple[dict[str, tuple[int, dict[str, int]]], int]:
    """Rows of a Census 2021 TS021 table by local authority.

    Returns ({LAD code: (row number, {"total": n, "white": n, ...})}, number of Scottish or
    Northern Irish rows skipped).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file.")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name}: the file is empty (0 bytes).")
    rows: dict[str, tuple[int, dict[str, int]]] = {}
    skipped = 0
    with open_census_table(path) as handle:
        try:
            reader = csv.reader(handle)
            header = next(reader, [])
            positions = {normalise_header(name): position for position, name in enumerate(header)}
            wanted = {"code": TS021_CODE_COLUMN, **TS021_COUNT_COLUMNS}
            missing = [column for column in wanted.values() if normalise_header(column) not in positions]
            if missing:
                raise InputError(
                    f"{path.name}: not a Census 2021 TS021 (ethnic group) table by local authority; missing "
                    f"column(s) {', '.join(repr(column) for column in missing)}."
                )
            columns = {}
            for key, name in wanted.items():
                position = positions[normalise_header(name)]
                columns[key] = (position, " ".join(header[position].replace("\ufeff", "").split()))
            for row_number, row in enumerate(reader, start=2):
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) < len(header):
                    raise InputError(
                        f"row {row_number}: {len(row)} values for {len(header)} columns; expected one value per column."
                    )
                code_position, code_column = columns["code"]
                code = row[code_position].strip()
                if not code:
                    raise InputError(f"row {row_number}, {code_column}: empty; expected a local authority code.")
                if code.startswith(SKIPPED_COUNTRY_PREFIXES):
                    skipped += 1
                    continue
                if code in rows:
                    raise InputError(
                        f"row {row_number}, {code_column}: '{code}' appears twice (first on row {rows[code][0]}); "
                        "expected each local authority once."
                    )
                counts = {
                    key: parse_census_count(row[position], row_number, column)
                    for key, (position, column) in columns.items()
                    if key != "code"
                }
                groups = sum(counts[group] for group in TS021_GROUP_COLUMNS)
                if groups > counts["total"]:
                    raise InputError(
                        f"row {row_number}, {columns['total'][1]}: {counts['total']} is less than the five groups "
                        f"together ({groups}); expected the total of all usual residents."
                    )
                rows[code] = (row_number, counts)
        except UnicodeDecodeError as error:
            raise InputError(f"{path.name}: not a UTF-8 text file ({error.reason}).") from None
        except csv.Error as error:
            raise InputError(f"{path.name}: not a readable CSV file ({error}).") from None
    if not rows:
        if skipped:
            raise InputError(f"{path.name}: no local authority of England and Wales in the file ({skipped} skipped).")
        raise InputError(f"{path.name}: the file has a header but no rows.")
    return rows, skipped


@transaction.atomic
def import_population(path: str | Path) -> "PopulationImport":
    """Sum a Census 2021 ethnic group table by local authority into one baseline per area and per force.

    The census and the lookup may use the codes of different years: the code history relates them
    (forces.local_authority_changes). Where one census authority covers districts of several of the
    lookup's areas (Buckinghamshire, four areas in December 2016), those areas cannot be told apart
    and get no baseline; their force's does, as a force's is summed from all its authorities.
    Replaces the 2021 baselines of the areas and forces in the file and leaves others alone; all or
    nothing. Returns a PopulationImport.
    """
    local_authorities = {la.code: la for la in LocalAuthority.objects.select_related("area__force")}
    if not local_authorities:
        raise InputError("No local authorities are loaded; run import_areas first.")
    rows, skipped = read_census_ethnic_groups(path)
    try:
        units = census_units(rows, set(local_authorities))
    except UnknownCodes as error:
        first_row, first_code = error.unknown[0]
        listed = ", ".join(code for _, code in error.unknown[:MAX_CODES_LISTED])
        count = len(error.unknown)
        more = f" and {count - MAX_CODES_LISTED} more" if count > MAX_CODES_LISTED else ""
        raise InputError(
            f"row {first_row}, geography code: '{first_code}' is not a local authority of the imported ONS lookup, "
            f"nor one that replaced or was replaced by one; {count} code(s) are unknown ({listed}{more}): expected "
            "local authority codes of England and Wales from 2016 on."
        ) from None
    except CensusCodeError as error:
        raise InputError(str(error)) from None
    area_totals: dict[Area, dict[str, int]] = {}
    force_totals: dict[Force, dict[str, int]] = {}
    shared: list[tuple[Any, list[Area]]] = []
    for unit in units:
        areas = {local_authorities[code].area for code in unit.covers}
        forces = {area.force for area in areas}
        if len(forces) > 1:
            raise InputError(
                f"row {unit.first_row}, geography code: '{unit.codes[0]}' covers local authorities of "
                f"{len(forces)} forces in the imported lookup; expected one force's."
            )
        add_counts(force_totals.setdefault(forces.pop(), dict.fromkeys(TS021_COUNT_COLUMNS, 0)), unit.counts)
        if len(areas) == 1:
            add_counts(area_totals.setdefault(areas.pop(), dict.fromkeys(TS021_COUNT_COLUMNS, 0)), unit.counts)
        else:
            shared.append((unit, sorted(areas, key=lambda area: area.name)))
    counted = {code for unit in units for code in unit.covers}
    # An area with part of it counted together with another area, or with only some of its districts
    # in the file, would get a baseline that is too small, and every rate built on it too high.
    shared_areas = {area for _, areas in shared for area in areas}
    for area in list(area_totals):
        if area in shared_areas:
            del area_totals[area]
            continue
        of_area = [la.code for la in local_authorities.values() if la.area_id == area.pk]
        absent = sorted(code for code in of_area if code not in counted)
        if absent:
            raise InputError(
                f"{area.name} ({area.code}): local authority {', '.join(absent)} is missing from the file; expected "
                "all of an area's local authorities or none."
            )
    for area, counts in area_totals.items():
        PopulationBaseline.objects.update_or_create(
            area=area, census_year=CENSUS_YEAR, defaults={**counts, "source": Path(path).name}
        )
    PopulationBaseline.objects.filter(area__in=shared_areas, census_year=CENSUS_YEAR).delete()
    whole_forces = []
    for force, counts in force_totals.items():
        of_force = [la for la in local_authorities.values() if la.area.force_id == force.pk]
        if all(la.code in counted for la in of_force):
            ForcePopulationBaseline.objects.update_or_create(
                force=force, census_year=CENSUS_YEAR,
                defaults={**counts, "source": Path(path).name, "lookup_year": max(la.lookup_year for la in of_force)},
            )  # fmt: skip
            whole_forces.append(force)
        else:
            # Part of a force is no force total: its rates fall back to the sum of its areas'.
            ForcePopulationBaseline.objects.filter(force=force, census_year=CENSUS_YEAR).delete()
    bump_figures_version()
    return PopulationImport(
        areas=len(area_totals), forces=len(whole_forces), local_authorities=len(rows), skipped=skipped,
        shared=[(unit.codes[0], areas) for unit, areas in shared],
    )  # fmt: skip


def add_counts(totals: dict[str, int], counts: dict[str, int]) -> None:
    for key, count in counts.items():
        totals[key] += count


@dataclass(frozen=True)
class PopulationImport:
    areas: int
    forces: int
    local_authorities: int
    skipped: int
    # (census code, the lookup's areas it covers together), for areas that get no baseline of their own
    shared: list[tuple[str, list[Area]]]


def ensure_role_groups(**kwargs: Any) -> None:
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
def create_role_user(username: str, role: Role, force: Force | None, password: str | None) -> User:
    """Create (or update) a user holding one role for one force."""
    user, _ = get_user_model().objects.get_or_create(username=username)
    user.is_staff = role in ADMIN_ROLES
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    ForceScope.objects.update_or_create(user=user, defaults={"force": force})
    return user


# --- API tokens ----------------------------------------------------------------------------

TOKEN_PREFIX = "tox_"  # noqa: S105 - marks a key as ours, not a secret


def token_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_token(*, user: User, name: str, access: str, force: Force) -> tuple[ApiToken, str]:
    """A new token for `user` on `force`; returns (token, key). The key is never stored."""
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user, force=force, name=name, access=access, prefix=key[:10], key_digest=token_digest(key)
    )
    return token, key


def revoke_api_token(token: ApiToken) -> None:
    """Revoked tokens are kept, so the page can show when a key stopped working."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
