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
from incidents import met_format  # noqa: E402

BOROUGHS = ["Lambeth", "Southwark", "Croydon", "Newham", "Hackney", "City of Westminster", "Brent", "Heathrow"]


def header():
    names = ["IncidentDate", "IncidentTime", "Borough", *met_format.LOCATIONS, "PrimaryConduct", "AssaultedBySubject"]
    names += ["ThreatenedWithWeapon", "AssaultedWithWeapon", *met_format.IMPACT_FACTORS, *met_format.REASONS]
    names += ["MainDuty", "SingleCrewed", "TrainedCED", "CarryingCED"]
    names += [f"Tactic {n}" for n in range(1, 21)] + [f"Effective {n}" for n in range(1, 20)] + ["Tactic Effective 20"]
    names += ["CED Used", "CED Device Serial No"]
    for prefix in met_format.BLOCKS:
        arced = f"{prefix} Ar{prefix}" if prefix != "CED" else "CED Arced"
        levels = [arced if s == "Arced" else f"{prefix} {s}" for s in met_format.BLOCK_LEVELS.values()]
        names += levels + [f"{prefix} {s}" for s in [*met_format.BLOCK_DETAILS, *met_format.BLOCK_NUMBERS]]
        names += [f"{prefix} {zone}" for zone in met_format.PROBE_ZONES]
    names += ["Firearms Aimed", "Firearms Fired", "SubjectAge", "SubjectGender", "SubjectEthnicity"]
    names += ["PhysicalDisability", "MentalDisability", "StaffInjured", "StaffInjuryIntentional", "StaffInjuryLevel"]
    names += ["StaffMedProvided", "SubjectInjured", "SubjectNatureOfInjury", "SubjectMedOffered", "SubjectMedProvided"]
    return names + list(met_format.OUTCOMES)


def block_of(name):
    """1 for a column of the first CED device block, 2 for CED2, …; 0 for other columns."""
    prefix = name.split(" ", 1)[0]
    return met_format.BLOCKS.index(prefix) + 1 if prefix in met_format.BLOCKS and name != "CED Used" else 0


def column(rng, name, n, devices, first_day="2020-04-01"):
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
        return pick(["0-10", "11-17", "18-34", "35-49", "50-64", "65 and over", ""])
    if name == "SubjectGender":
        return pick(["Male", "Female", "Other", ""])
    if name == "SubjectEthnicity":
        return pick(["White", "Black", "Asian", "Mixed", "Other", "Chinese", "Don't know"])
    if name in ("StaffInjuryLevel", "SubjectNatureOfInjury"):
        return pick(["", "Minor", "Severe"], [0.9, 0.08, 0.02])
    if name == "MainDuty":
        return pick(["Response", "Neighbourhood", "Custody"])
    if name.startswith("Tactic "):
        return pick(["", "Tactical Communications", "Compliant Handcuffing", "CED (Taser) Drawn", "CED (Taser) Aimed"])
    if name == "CED Used":
        return np.where(devices > 0, "Yes", "No").astype(object)
    if block_of(name):
        # A device block is filled in only for the devices used; elsewhere it is blank.
        if name.endswith(("Total Number Of Cycles", "Cartridge Number")):
            values = pick(["", "1", "2"], [0.8, 0.15, 0.05])
        elif name.endswith("Device Serial No"):
            values = pick(["X2-0001", "T7-0042"])
        else:
            values = pick(["Yes", "No"], [0.3, 0.7])
        return np.where(devices >= block_of(name), values, "").astype(object)
    if name.startswith(("Impact", "Reason", "Outcome", "Incident Location")):
        return pick(["Yes", "No", ""], [0.05, 0.6, 0.35])
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
            columns = {
                name: pa.array(column(rng, name, n, devices, arguments.first_day), pa.string()) for name in names
            }
            writer.write_table(pa.table(columns))
    print(f"{arguments.out}: {arguments.rows:,} rows, {len(names)} columns")


if __name__ == "__main__":
    main()
