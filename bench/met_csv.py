"""Write a Met-format use-of-force CSV of N generated rows, with every documented column.

.venv/bin/python bench/met_csv.py --rows 1000000 --out /tmp/met-1m.csv
"""

import argparse
import os
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "oversight.settings")
import django  # noqa: E402 - after the path is set

django.setup()
from dashboards import demo, demo_figures  # noqa: E402
from incidents import met_format  # noqa: E402

BOROUGHS = ["Lambeth", "Southwark", "Croydon", "Newham", "Hackney", "City of Westminster", "Brent", "Heathrow"]


def level_columns(prefix):
    """{column: CED level} of a device block, as the Met names them (CED2 ArCED2 …)."""
    arced = f"{prefix} Ar{prefix}" if prefix != "CED" else "CED Arced"
    return {arced if s == "Arced" else f"{prefix} {s}": level for level, s in met_format.BLOCK_LEVELS.items()}


LEVEL_COLUMNS = {name: level for prefix in met_format.BLOCKS for name, level in level_columns(prefix).items()}


def header():
    names = ["IncidentDate", "IncidentTime", "Borough", *met_format.LOCATIONS, "PrimaryConduct", "AssaultedBySubject"]
    names += ["ThreatenedWithWeapon", "AssaultedWithWeapon", *met_format.IMPACT_FACTORS, *met_format.REASONS]
    names += ["MainDuty", "SingleCrewed", "TrainedCED", "CarryingCED"]
    names += [f"Tactic {n}" for n in range(1, 21)] + [f"Effective {n}" for n in range(1, 20)] + ["Tactic Effective 20"]
    names += ["CED Used", "CED Device Serial No"]
    for prefix in met_format.BLOCKS:
        names += list(level_columns(prefix)) + [
            f"{prefix} {s}" for s in [*met_format.BLOCK_DETAILS, *met_format.BLOCK_NUMBERS]
        ]
        names += [f"{prefix} {zone}" for zone in met_format.PROBE_ZONES]
    names += ["Firearms Aimed", "Firearms Fired", "SubjectAge", "SubjectGender", "SubjectEthnicity"]
    names += ["PhysicalDisability", "MentalDisability", "StaffInjured", "StaffInjuryIntentional", "StaffInjuryLevel"]
    names += ["StaffMedProvided", "SubjectInjured", "SubjectNatureOfInjury", "SubjectMedOffered", "SubjectMedProvided"]
    return names + list(met_format.OUTCOMES)


def block_of(name):
    """1 for a column of the first CED device block, 2 for CED2, …; 0 for other columns."""
    prefix = name.split(" ", 1)[0]
    return met_format.BLOCKS.index(prefix) + 1 if prefix in met_format.BLOCKS and name != "CED Used" else 0


# The Met's labels of each category the demo's national shares (dashboards.demo_figures) are given for.
AGE_LABELS = {"under_11": "0-10", "11_17": "11-17", "18_34": "18-34", "35_49": "35-49", "50_64": "50-64",
              "65_plus": "65 and over", "not_reported": ""}  # fmt: skip
GENDER_LABELS = {"male": "Male", "female": "Female", "other": "Other", "not_reported": ""}
# London's subjects, roughly as the Met's own figures give them ("Chinese" is counted in Asian).
ETHNICITY_SHARES = {"White": 0.45, "Black": 0.3, "Asian": 0.11, "Chinese": 0.005, "Mixed": 0.045, "Other": 0.035,
                    "Don't know": 0.055}  # fmt: skip
INJURY_LABELS = {"minor": "Minor injury", "severe": "Severe injury", "death": "Fatal", "none": "", "not_reported": ""}
LEVEL_LABELS = {level: f"CED (Taser) {label}" for level, label in met_format.BLOCK_LEVELS.items()}
OTHER_TACTICS = ["Tactical Communications", "Compliant Handcuffing", "Non-Compliant Handcuffing", "Unarmed Skills"]


def choose(rng, shares, n):
    """n keys of `shares`, drawn in proportion to their values, as the demo draws them."""
    return np.array(demo.choose(rng, shares, n), dtype=object)


def shared_draws(rng, n, devices):
    """Each row's draws that several columns share: as in the national figures the demo follows."""
    taser = devices > 0
    levels = np.array([int(level) for level in demo_figures.LEVEL_SHARES])
    shares = np.array(list(demo_figures.LEVEL_SHARES.values()), dtype=float)
    return {
        "taser": taser,
        # The highest level a tactic column names (0, not stated: no tactic names one).
        "level": np.where(taser, rng.choice(levels, n, p=shares / shares.sum()), -1),
        "health": choose(rng, {str(k): v for k, v in demo_figures.HEALTH_SHARES.items()}, n),
        "officer_injury": choose(rng, {str(k): v for k, v in demo_figures.OFFICER_INJURY_SHARES.items()}, n),
        "subject_injury": choose(rng, {str(k): v for k, v in demo_figures.SUBJECT_INJURY_SHARES.items()}, n),
    }


def yes_no(flags, blank=None):
    """ "Yes" or "No" for each flag; "" where `blank`."""
    values = np.where(flags, "Yes", "No").astype(object)
    return values if blank is None else np.where(blank, "", values).astype(object)


def injured(draws, key, name):
    """StaffInjured/SubjectInjured and their levels, from one draw of the injury."""
    injury = draws[key]
    if name.endswith("Injured"):
        return yes_no(~np.isin(injury, ["none", "not_reported"]), blank=injury == "not_reported")
    return np.array([INJURY_LABELS[value] for value in injury], dtype=object)


def column(rng, name, n, devices, draws, first_day="2020-04-01"):
    pick = lambda values, p=None: np.array(values, dtype=object)[rng.choice(len(values), n, p=p)]  # noqa: E731
    if name == "IncidentDate":
        return (np.datetime64(first_day) + rng.integers(0, 365, n)).astype(str).astype(object)
    if name == "IncidentTime":
        minutes = rng.integers(0, 1440, n)
        return np.array([f"{m // 60:02d}:{m % 60:02d}" for m in minutes], dtype=object)
    if name == "Borough":
        return pick(BOROUGHS)
    if name == "PrimaryConduct":
        return pick(["Compliant", "Passive resistance", "Active resistance", "Aggressive resistance", ""])
    if name == "SubjectAge":
        return choose(rng, {AGE_LABELS[str(k)]: v for k, v in demo_figures.AGE_SHARES.items()}, n)
    if name == "SubjectGender":
        return choose(rng, {GENDER_LABELS[str(k)]: v for k, v in demo_figures.GENDER_SHARES.items()}, n)
    if name == "SubjectEthnicity":
        return choose(rng, ETHNICITY_SHARES, n)
    if name in ("PhysicalDisability", "MentalDisability"):
        health = draws["health"]
        kind = "physical" if name.startswith("Physical") else "mental"
        return yes_no(np.isin(health, [kind, "physical_and_mental"]), blank=health == "not_reported")
    if name in ("StaffInjured", "StaffInjuryLevel"):
        return injured(draws, "officer_injury", name)
    if name in ("SubjectInjured", "SubjectNatureOfInjury"):
        return injured(draws, "subject_injury", name)
    if name == "MainDuty":
        return pick(["Response", "Neighbourhood", "Custody"])
    if name == "Tactic 1":
        # A report with Taser names its highest level among its tactics (none: not stated).
        level = np.array([LEVEL_LABELS.get(value, "") for value in draws["level"]], dtype=object)
        return np.where(level != "", level, pick(OTHER_TACTICS)).astype(object)
    if name.startswith("Tactic "):
        return pick(["", *OTHER_TACTICS], [0.6, 0.1, 0.1, 0.1, 0.1])
    if name == "CED Used":
        return yes_no(draws["taser"])
    if block_of(name):
        # A device block is filled in only for the devices used; elsewhere it is blank.
        if name in LEVEL_COLUMNS:
            # Each device used names the row's level, the highest its tactics name (and the report's).
            values = yes_no(draws["level"] == LEVEL_COLUMNS[name])
        elif name.endswith(("Total Number Of Cycles", "Cartridge Number")):
            values = pick(["", "1", "2"], [0.8, 0.15, 0.05])
        elif name.endswith("Device Serial No"):
            values = pick(["X2-0001", "T7-0042"])
        else:
            values = pick(["Yes", "No"], [0.3, 0.7])
        return np.where(devices >= block_of(name), values, "").astype(object)
    if name in met_format.FLAGS:
        # Each option as often as the demo ticks it, with Taser and without.
        without, with_taser = demo_figures.OPTION_CHANCES[met_format.FLAGS[name]]
        return yes_no(rng.random(n) < np.where(draws["taser"], with_taser, without))
    return pick(["Yes", "No"], [0.2, 0.8])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", required=True)
    parser.add_argument("--first-day", default="2020-04-01", help="the dates are the 365 days from this one")
    arguments = parser.parse_args()
    rng = np.random.default_rng(arguments.seed)
    names = header()
    with pacsv.CSVWriter(arguments.out, pa.schema([(name, pa.string()) for name in names])) as writer:
        for start in range(0, arguments.rows, 100_000):
            n = min(100_000, arguments.rows - start)
            # Taser is used in about one report in ten; a second device in one of those in twenty.
            devices = rng.choice(5, n, p=[0.9, 0.0945, 0.005, 0.0004, 0.0001])
            draws = shared_draws(rng, n, devices)
            columns = {
                name: pa.array(column(rng, name, n, devices, draws, arguments.first_day), pa.string()) for name in names
            }
            writer.write_table(pa.table(columns))
    print(f"{arguments.out}: {arguments.rows:,} rows, {len(names)} columns")


if __name__ == "__main__":
    main()
