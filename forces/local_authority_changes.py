"""Which local authority district codes replaced which, since the December 2016 lookup.

Census tables and ONS lookups each use the codes of their year: Census 2021 counts Buckinghamshire
as E06000060, the December 2016 lookup as its four former districts. This history relates the two,
so that a census table sums into the areas of a lookup of another vintage.

The history is `local_authority_changes.csv` beside this module: one row per retired code, with
the day its successor took over and the statutory instrument that made the change (facts from
legislation.gov.uk, cross-checked against the ONS Code History Database's record of the same
changes; see docs/data-imports.md). England and Wales only: Scotland and Northern Ireland have
no police force area here. Every change since 2016 merged whole districts, so each retired code
has one successor and a successor is exactly the sum of its predecessors.
"""

import csv
import datetime
from dataclasses import dataclass
from functools import cache
from pathlib import Path

HISTORY = Path(__file__).with_name("local_authority_changes.csv")


@dataclass(frozen=True)
class CodeChange:
    took_effect: datetime.date
    old_code: str
    old_name: str
    new_code: str
    new_name: str
    order: str  # the statutory instrument's address on legislation.gov.uk


@cache
def code_changes() -> tuple[CodeChange, ...]:
    with HISTORY.open(encoding="utf-8", newline="") as handle:
        return tuple(
            CodeChange(
                took_effect=datetime.date.fromisoformat(row["date"]),
                old_code=row["old_code"],
                old_name=row["old_name"],
                new_code=row["new_code"],
                new_name=row["new_name"],
                order=row["order"],
            )
            for row in csv.DictReader(handle)
        )


@cache
def successors() -> dict[str, CodeChange]:
    """{retired code: the change that retired it}."""
    return {change.old_code: change for change in code_changes()}


@cache
def predecessors() -> dict[str, tuple[str, ...]]:
    """{successor code: the codes it replaced}."""
    replaced: dict[str, list[str]] = {}
    for change in code_changes():
        replaced.setdefault(change.new_code, []).append(change.old_code)
    return {code: tuple(olds) for code, olds in replaced.items()}


def name_of(code: str) -> str:
    """The name of an authority the history made, or the code itself."""
    return next((change.new_name for change in code_changes() if change.new_code == code), code)


def latest_code(code: str) -> str:
    """The code that holds `code`'s residents today (itself when it was never replaced)."""
    while code in successors():
        code = successors()[code].new_code
    return code


def ancestors(code: str) -> set[str]:
    """Every code `code` replaced, directly or through an intermediate one."""
    found: set[str] = set()
    for old in predecessors().get(code, ()):
        found |= {old, *ancestors(old)}
    return found


def covered_by(code: str, known: set[str]) -> frozenset[str] | None:
    """The codes of `known` whose residents a census row for `code` counts, or None when the history
    cannot tell.

    `code` itself if known; else the known code it became (a census of older codes than the lookup's:
    several rows fall into one); else the known codes it replaced (a census of newer codes than the
    lookup's: one row covers several), provided every part of it is known.
    """
    if code in known:
        return frozenset({code})
    later = code
    while later in successors():
        later = successors()[later].new_code
        if later in known:
            return frozenset({later})
    return earlier_parts(code, known)


def earlier_parts(code: str, known: set[str]) -> frozenset[str] | None:
    """The known codes that together make up `code`, or None if some part of it is not known."""
    if code in known:
        return frozenset({code})
    parts = predecessors().get(code)
    if not parts:
        return None
    found: set[str] = set()
    for part in parts:
        part_covered = earlier_parts(part, known)
        if part_covered is None:
            return None
        found |= part_covered
    return frozenset(found)
