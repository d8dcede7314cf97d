"""Census rows by local authority, related to the local authorities of the imported lookup.

Pure functions (no database): which of the lookup's authorities each census row counts, through the
code history when the census and the lookup are of different years.
"""

from dataclasses import dataclass

from forces.local_authority_changes import ancestors, covered_by, earlier_parts, predecessors


class CensusCodeError(Exception):
    """A census file whose codes cannot be summed into the lookup's; the message names the row and code."""


@dataclass
class CensusUnit:
    """Census rows that together count exactly the lookup's authorities `covers`."""

    codes: list[str]
    first_row: int
    covers: frozenset[str]
    counts: dict[str, int]


def census_units(rows: dict[str, tuple[int, dict[str, int]]], known: set[str]) -> list[CensusUnit]:
    """Group census rows ({code: (row number, counts)}) by the lookup authorities (`known`) they count.

    A row of an authority the lookup knows counts that one; rows of districts merged since the census
    count, together, the authority they became, so all of them must be in the file; a row of an
    authority made since the lookup counts all the districts it replaced. Raises CensusCodeError for a
    code the history does not relate to the lookup, a merged authority only partly in the file, or a file
    mixing the codes of two years so that some residents would count twice.
    """
    covering = {}
    unknown = []
    for code, (row_number, _) in rows.items():
        covers = covered_by(code, known)
        if covers is None:
            unknown.append((row_number, code))
        else:
            covering[code] = covers
    if unknown:
        raise UnknownCodes(unknown)
    units: dict[frozenset[str], CensusUnit] = {}
    for code, covers in covering.items():
        row_number, counts = rows[code]
        unit = units.get(covers)
        if unit is None:
            units[covers] = CensusUnit([code], row_number, covers, dict(counts))
            continue
        unit.codes.append(code)
        for key, count in counts.items():
            unit.counts[key] += count
    counted_by: dict[str, CensusUnit] = {}
    for unit in units.values():
        check_parts_whole(unit, rows)
        for authority in unit.covers:
            if authority in counted_by:
                other = counted_by[authority]
                raise CensusCodeError(
                    f"row {unit.first_row}, geography code: '{unit.codes[0]}' counts local authority {authority} "
                    f"of the imported lookup, as '{other.codes[0]}' on row {other.first_row} does: the file mixes "
                    "the codes of different years, and would count its residents twice."
                )
            counted_by[authority] = unit
    return list(units.values())


def check_parts_whole(unit: CensusUnit, rows: dict[str, tuple[int, dict[str, int]]]) -> None:
    """Several rows in one unit are the districts one authority of the lookup was made of: all of them, once."""
    if len(unit.codes) == 1:
        return
    (merged,) = unit.covers
    codes = set(unit.codes)
    for code in unit.codes:
        if twice := ancestors(code) & codes:
            earlier = min(twice)
            raise CensusCodeError(
                f"row {rows[earlier][0]}, geography code: '{earlier}' is part of '{code}' (row {rows[code][0]}): "
                "the file mixes the codes of different years, and would count its residents twice."
            )
    if earlier_parts(merged, codes) is None:
        missing = sorted(part for part in predecessors()[merged] if earlier_parts(part, codes) is None)
        raise CensusCodeError(
            f"row {unit.first_row}, geography code: '{unit.codes[0]}' is part of {merged} in the imported lookup, "
            f"and {', '.join(missing)}, also part of it, is missing from the file; expected all its parts or none."
        )


class UnknownCodes(CensusCodeError):
    """Codes neither in the lookup nor related to it by the code history: [(row number, code)]."""

    def __init__(self, unknown):
        self.unknown = unknown
        super().__init__(f"{len(unknown)} unknown code(s)")
