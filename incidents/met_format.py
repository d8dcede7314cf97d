"""The Metropolitan Police record-level use-of-force export, column by column.

Columns are matched by name, case and spacing aside, with the publisher's misspellings
(`Impact Factor: Possesion of a weapon`, `CED2 ArCED2`, `Tactic Effective 20`) accepted.
Each batch is converted column-wise with pyarrow, so a million rows convert in seconds;
every problem is reported with the file row, the column, the value and what was expected.
"""

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from forces.models import Area
from incidents import vocabularies
from incidents.columns import Columns, any_of, dates, distinct, normal, split, times
from incidents.models import LADDER, CedLevel

# Area names and codes longer than their columns are refused, not cut.
AREA_LENGTHS = {field: Area._meta.get_field(field).max_length for field in ("code", "name")}

# The form's options, one Yes/No column each: "<group>: <label>", with every label of the option.
OPTION_GROUPS = {
    "Incident Location": vocabularies.LOCATIONS, "Impact Factor": vocabularies.IMPACT_FACTORS,
    "Reason for Force": vocabularies.REASONS, "Outcome": vocabularies.OUTCOMES,
}  # fmt: skip
LOCATIONS, IMPACT_FACTORS, REASONS, OUTCOMES = (
    {f"{group}: {labels[0]}": field for field, labels in options.items()} for group, options in OPTION_GROUPS.items()
)
FLAGS = {**LOCATIONS, **IMPACT_FACTORS, **REASONS, **OUTCOMES}
OFFICER_CONTEXT = {
    "SingleCrewed": "officer_single_crewed",
    "TrainedCED": "officer_ced_trained",
    "CarryingCED": "officer_carrying_ced",
    "AssaultedBySubject": "officer_assaulted",
    "ThreatenedWithWeapon": "officer_threatened_with_weapon",
}
TACTIC_LEVELS = {
    "ced (taser) drawn": CedLevel.DRAWN,
    "ced (taser) aimed": CedLevel.AIMED,
    "ced (taser) red-dotted": CedLevel.RED_DOTTED,
    "ced (taser) arced": CedLevel.ARCED,
    "ced (taser) drive stun": CedLevel.DRIVE_STUN,
    "ced (taser) fired": CedLevel.FIRED,
    "ced (taser) angle drive stun": CedLevel.ANGLE_DRIVE_STUN,
}
BLOCKS = ("CED", "CED2", "CED3", "CED4")
BLOCK_LEVELS = {
    CedLevel.DRAWN: "Drawn", CedLevel.AIMED: "Aimed", CedLevel.RED_DOTTED: "Red-Dotted", CedLevel.ARCED: "Arced",
    CedLevel.DRIVE_STUN: "Drive Stun", CedLevel.FIRED: "Fired", CedLevel.ANGLE_DRIVE_STUN: "Angle Drive Stun",
}  # fmt: skip
BLOCK_DETAILS = {
    "Drive Stun Repeat Application": "drive_stun_repeated",
    "Fired 5 Secs Cycle Interrupted": "cycle_interrupted",
    "Fired Repeat Cycle Same Cartridge": "repeat_cycle_same_cartridge",
    "Fired Cycle Extended Beyond 5 Secs": "cycle_extended",
    "Fired Miss With One Probe": "missed_one_probe",
    "Fired Miss With Both Probes": "missed_both_probes",
}
BLOCK_NUMBERS = {"Fired Cartridge Number": "cartridge_number", "Fired Total Number Of Cycles": "cycles"}
PROBE_ZONES = [f"Front {n}" for n in range(1, 16)] + [f"Back {letter}" for letter in "ABCDEFGHJK"]
# Columns of the export the product reads but does not keep (not part of the national form
# as DESIGN.md models it, or effectiveness, which is per tactic).
KNOWN_UNUSED = (
    ["IncidentTime", "AssaultedWithWeapon", "Firearms Aimed", "Firearms Fired", "StaffInjuryIntentional",
     "StaffMedProvided", "SubjectMedOffered", "SubjectMedProvided", "CED Used"]
    + [f"Tactic {n}" for n in range(1, 21)] + [f"Effective {n}" for n in range(1, 21)] + ["Tactic Effective 20"]
)  # fmt: skip


# Misspellings and variants seen in the published files, mapped to the names used here.
ALIASES = {
    **{
        normal(f"{group}: {label}"): normal(f"{group}: {labels[0]}")
        for group, options in OPTION_GROUPS.items()
        for labels in options.values()
        for label in labels[1:]
    },
    **{normal(f"{p} Ar{p}"): normal(f"{p} Arced") for p in BLOCKS[1:]},
    normal("Tactic Effective 20"): normal("Effective 20"),
    normal("CED Device Serial No"): normal("CED Device Serial No"),
}


# The Met's own spellings of the columns ALIASES names otherwise.
PUBLISHED = {
    normal("Effective 20"): normal("Tactic Effective 20"),
    **{normal(f"{p} Arced"): normal(f"{p} Ar{p}") for p in BLOCKS[1:]},
}


def digest_name(name):
    """The name by which a column's cells are ordered in a record's content digest: the Met's own spelling.

    Every spelling of a column has it, so an edition that spells a column otherwise changes no record;
    and the Met's files, whose records were digested by their own spellings, keep their digests.
    """
    known = ALIASES.get(normal(name), normal(name))
    return PUBLISHED.get(known, known)


def known_columns():
    names = [*FLAGS, *OFFICER_CONTEXT, *KNOWN_UNUSED, "IncidentDate", "Borough", "PrimaryConduct", "MainDuty"]
    names += ["SubjectAge", "SubjectGender", "SubjectEthnicity", "PhysicalDisability", "MentalDisability"]
    names += ["StaffInjured", "StaffInjuryLevel", "SubjectInjured", "SubjectNatureOfInjury"]
    for prefix in BLOCKS:
        suffixes = [*BLOCK_LEVELS.values(), *BLOCK_DETAILS, *BLOCK_NUMBERS, *PROBE_ZONES, "Device Serial No"]
        names += [f"{prefix} {suffix}" for suffix in suffixes]
    return {normal(name) for name in names}


KNOWN = known_columns()


def is_known(name):
    return ALIASES.get(normal(name), normal(name)) in KNOWN


# Every Yes/No column, read together (see Columns.read_yes_no).
# The form's own Yes/No columns; those of the CED ladder and devices stay strict.
LENIENT_YES_NO = [*FLAGS, *OFFICER_CONTEXT, "PhysicalDisability", "MentalDisability", "StaffInjured", "SubjectInjured"]
YES_NO = (
    LENIENT_YES_NO
    + ["CED Used"]
    + [f"{prefix} {suffix}" for prefix in BLOCKS for suffix in [*BLOCK_LEVELS.values(), *BLOCK_DETAILS, *PROBE_ZONES]]
)

FORMAT = "met"
NUMBERED_IDENTITY = True


def is_header(header):
    return normal("IncidentDate") in {ALIASES.get(normal(n), normal(n)) for n in header}


IDENTITY = ("IncidentDate", "IncidentTime", "Borough", "SubjectAge", "SubjectGender", "SubjectEthnicity")


def identity(batch):
    """The identity of each record, which has no reference: when, where and whom (docs/data-imports.md).

    The importer numbers rows that share one (several officers on one person).

    Read on its own, before the rest of the row is converted: an unchanged row never is.
    """
    wanted = {normal(name) for name in IDENTITY}
    names = [name for name in batch.schema.names if ALIASES.get(normal(name), normal(name)) in wanted]
    columns = Columns(batch.select(names), 0, None, ALIASES)
    return pc.binary_join_element_wise(*(columns.text(name) for name in IDENTITY), "|")


def health(columns):
    physical = columns.yes_no("PhysicalDisability", nullable=True)
    mental = columns.yes_no("MentalDisability", nullable=True)
    stated = pc.or_(pc.is_valid(physical), pc.is_valid(mental))
    physical, mental = pc.fill_null(physical, False), pc.fill_null(mental, False)
    value = pc.if_else(
        pc.and_(physical, mental),
        "physical_and_mental",
        pc.if_else(physical, "physical", pc.if_else(mental, "mental", "none")),
    )
    return pc.if_else(stated, value, "not_reported")


def injury(columns, injured_name, level_name, vocabulary):
    injured = columns.yes_no(injured_name, nullable=True)
    level = columns.choice(level_name, vocabulary)
    value = pc.if_else(pc.fill_null(injured, False), level, "none")
    return pc.if_else(pc.is_null(injured), "not_reported", value)


def ladder_flags(columns):
    """Each device block's ladder flags, and the report's: the blocks', else the tactics'."""
    blocks = []
    for prefix in BLOCKS:
        blocks.append(
            {
                level: columns.yes_no(f"{prefix} {suffix}") if columns.has(f"{prefix} {suffix}") else None
                for level, suffix in BLOCK_LEVELS.items()
            }
        )
    false = pa.repeat(False, columns.length)
    blocks = [{level: flag if flag is not None else false for level, flag in flags.items()} for flags in blocks]
    tactic_columns = [f"Tactic {n}" for n in range(1, 21) if columns.has(f"Tactic {n}")]
    # The tactic columns end to end, their few distinct texts matched against the levels
    # (rather than one comparison per column and level): a matrix of the level each cell
    # names (-1: none), a row per tactic column.
    cells = pa.concat_arrays([columns.raw(name) for name in tactic_columns] or [pa.array([], pa.string())])
    values, index = distinct(cells)
    named = pc.index_in(pc.utf8_lower(pc.utf8_trim_whitespace(values)), pa.array(list(TACTIC_LEVELS)))
    named = pc.fill_null(pc.take(named, index), -1).to_numpy().reshape(len(tactic_columns), columns.length)
    tactics = {level: pa.array((named == i).any(axis=0)) for i, level in enumerate(TACTIC_LEVELS.values())}
    any_block = any_of([flag for flags in blocks for flag in flags.values()], columns.length)
    report = {
        level: pc.if_else(any_block, any_of([flags[level] for flags in blocks], columns.length), tactics[level])
        for level in BLOCK_LEVELS
    }
    return blocks, report


def highest(flags, ced_used):
    """The ladder rule, column-wise: the highest flagged level, 0 (not stated) if none."""
    result = pc.if_else(ced_used, pa.scalar(int(CedLevel.NOT_STATED), pa.int64()), pa.scalar(None, pa.int64()))
    for level in sorted(flags):
        result = pc.if_else(flags[level], pa.scalar(int(level), pa.int64()), result)
    return result


def convert(batch, first_row, errors, area_ids, force_id=None, unrecognised=None):
    """A batch of the Met export → (report columns, CED-use rows); the identity is `identity`'s.

    `area_ids(names)` maps Borough names to area ids (creating areas on first sight).
    Report columns are pyarrow arrays keyed by model field name; CED uses are a pyarrow
    table of CedUse fields with the batch index of their report in column "row".
    `unrecognised` keeps values outside the vocabularies (None: they are problems).
    """
    columns = Columns(batch, first_row, errors, ALIASES, unrecognised)
    columns.read_yes_no((name for name in YES_NO if columns.has(name)), lenient=LENIENT_YES_NO)
    report = {flag: columns.yes_no(name) for name, flag in FLAGS.items()}
    report |= {field: columns.yes_no(name, nullable=True) for name, field in OFFICER_CONTEXT.items()}
    report["occurred_on"] = dates(columns, "IncidentDate")
    report["occurred_at"] = times(columns, "IncidentTime")
    borough = columns.within_length("Borough", AREA_LENGTHS["name"])
    report["area"] = pc.take(
        pa.array(area_ids(pc.unique(borough).to_pylist())), pc.index_in(borough, pc.unique(borough))
    )
    report["subject_age"] = columns.choice("SubjectAge", vocabularies.AGE)
    report["subject_gender"] = columns.choice("SubjectGender", vocabularies.GENDER)
    report["subject_ethnicity"] = columns.choice("SubjectEthnicity", vocabularies.ETHNICITY)
    # The label as the Met wrote it (Chinese, Don't know); a value outside the vocabulary is kept apart.
    ethnicity = columns.text("SubjectEthnicity")
    report["subject_ethnicity_source"] = pc.if_else(
        columns.known("SubjectEthnicity", vocabularies.ETHNICITY), ethnicity, ""
    )
    report["subject_health"] = health(columns)
    report["subject_conduct"] = columns.choice("PrimaryConduct", vocabularies.CONDUCT, pa.int64())
    report["officer_main_duty"] = columns.text("MainDuty")
    report["officer_injury"] = injury(columns, "StaffInjured", "StaffInjuryLevel", vocabularies.OFFICER_INJURY_LEVEL)
    report["subject_injury"] = injury(
        columns, "SubjectInjured", "SubjectNatureOfInjury", vocabularies.SUBJECT_INJURY_LEVEL
    )

    blocks, levels = ladder_flags(columns)
    ced_used = pc.or_(columns.yes_no("CED Used"), any_of(levels.values(), columns.length))
    for level, flag in LADDER:
        report[flag] = levels[level]
    report["ced_used"] = ced_used
    report["highest_ced_level"] = highest(levels, ced_used)
    report["body_worn_video"] = pa.array(["not_stated"] * columns.length)  # not in the public export
    if (kept := columns.kept_as_published()) is not None:
        report["unrecognised"] = kept

    return report, device_rows(columns, blocks)


def device_rows(columns, blocks):
    """The CED uses of the device blocks, as columns: the blocks used, with their report's batch row.

    The blocks are read as one: each column of the four blocks end to end, so that each
    compute call covers all four, and block b's row i is at (b - 1) * length + i.
    """
    length = columns.length
    false = pa.repeat(False, length)

    def zone_flags(zone):
        """Whether each block's probe struck the zone (false where its column is absent)."""
        names = [f"{prefix} {zone}" for prefix in BLOCKS]
        return [columns.yes_no(name) if columns.has(name) else false for name in names]

    levels = {level: pa.concat_arrays([block[level] for block in blocks]) for level, _ in LADDER}
    used = pc.indices_nonzero(any_of(levels.values(), len(BLOCKS) * length))
    take = lambda arrays: pc.take(pa.concat_arrays(arrays), used)  # noqa: E731 - a short local helper
    block, row = np.divmod(used.to_numpy(), length)
    uses = {"row": pa.array(row, used.type), "device_number": pa.array(block + 1, pa.int64())}
    uses["serial_number"] = take([columns.text(f"{prefix} Device Serial No") for prefix in BLOCKS])
    uses |= {flag: pc.take(levels[level], used) for level, flag in LADDER}
    for suffix, field in BLOCK_DETAILS.items():
        uses[field] = take([columns.yes_no(f"{prefix} {suffix}", nullable=True) for prefix in BLOCKS])
    # Block by block, as their problems are reported in the order of the columns.
    columns.read_whole_numbers(f"{prefix} {suffix}" for prefix in BLOCKS for suffix in BLOCK_NUMBERS)
    for suffix, field in BLOCK_NUMBERS.items():
        uses[field] = take([columns.whole_number(f"{prefix} {suffix}") for prefix in BLOCKS])
    # The zones likewise: all of them end to end, zone by zone, taken and coded in one call.
    first_of_zone = np.arange(len(PROBE_ZONES), dtype=np.uint64) * (len(BLOCKS) * length)
    struck = pc.take(
        pa.concat_arrays([flag for zone in PROBE_ZONES for flag in zone_flags(zone)]),
        (first_of_zone[:, None] + used.to_numpy()).ravel(),
    )
    zone_codes = pa.array([f'"{zone_code(zone)}", ' for zone in PROBE_ZONES])
    codes = pc.if_else(struck, pc.take(zone_codes, np.repeat(np.arange(len(PROBE_ZONES)), len(used))), "")
    codes = pc.binary_join_element_wise(*split(codes, len(PROBE_ZONES), len(used)), "")
    uses["probe_zones"] = pc.binary_join_element_wise("[", pc.utf8_rtrim(codes, characters=", "), "]", "")
    return pa.table(uses)


def zone_code(zone):
    """Front 3 → F3, Back A → BA."""
    return zone.replace("Front ", "F").replace("Back ", "B")
