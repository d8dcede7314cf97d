"""The areas a file names, found among the force's or created for review."""

import collections
from collections.abc import Iterable

from django.utils.text import slugify

from forces.models import Area, Force
from forces.services import InputError
from incidents.models import ImportBatch

# Met boroughs whose name differs from the ONS name of the area.
AREA_ALIASES = {"city of westminster": "westminster"}
OTHER_AREAS = {"heathrow", "out of force"}
AREA_KINDS: dict[str, str] = {Area.Kind.BOROUGH: "boroughs", Area.Kind.CSP: "community safety partnerships"}


class AreaFinder:
    """Maps area names or codes in a file to the force's areas, creating unknown ones for review."""

    def __init__(self, force: Force, batch: ImportBatch) -> None:
        self.force, self.batch = force, batch
        areas = Area.objects.filter(force=force)
        self.ids = {self.key(area.name): area.id for area in areas}
        # A file's missing code (None) is looked up too, and finds nothing.
        self.codes: dict[str | None, int] = {area.code: area.id for area in areas}
        self.held = set(self.ids.values())  # the force's areas before the import
        self.seen: set[int] = set()  # the ids of the areas the file names (but other areas: out of force, Heathrow)
        self.created: dict[int, tuple[str, str]] = {}  # id → (name, code) of the areas the file made

    def by_code(self, codes: Iterable[str | None], names: Iterable[str | None]) -> list[int | None]:
        ids: list[int | None] = []
        for code, name in zip(codes, names, strict=True):
            if code and code not in self.codes:
                self.codes[code] = self.by_name_for_code(code, name) or self.create(name or code, code)
            ids.append(self.codes.get(code))
        self.seen.update(area_id for area_id in set(ids) if area_id is not None)
        return ids

    def check_belongs(self, file_name: str) -> None:
        """Refuse a file most of whose areas the force, which has areas, does not know: another force's file.

        The sentence names the force whose areas they are, found by name or code.
        """
        named = self.seen - {self.ids[key] for key in OTHER_AREAS if key in self.ids}
        unknown = [self.created[area_id] for area_id in named if area_id in self.created]
        if not self.held or len(unknown) * 2 <= len(named):
            return
        others = Area.objects.exclude(force=self.force)
        keys = {self.key(name) for name, _ in unknown}
        codes = {code for _, code in unknown}
        matches: collections.Counter[str] = collections.Counter()
        kinds: dict[str, collections.Counter[str]] = {}
        for area in others.only("force_id", "name", "code", "kind"):
            if self.key(area.name) in keys or area.code in codes:
                matches[area.force_id] += 1
                kinds.setdefault(area.force_id, collections.Counter())[area.kind] += 1
        advice = (
            f"nothing was imported; if they are new areas of {self.force.pk}, import the file again allowing new "
            "areas (--new-areas)."
        )
        if not matches:
            raise InputError(
                f"{file_name}: {len(unknown)} of {len(named)} areas are not areas of {self.force.pk} (nor of any other "
                f"force); {advice}"
            )
        other, count = matches.most_common(1)[0]
        kind = AREA_KINDS.get(kinds[other].most_common(1)[0][0], "areas")
        raise InputError(
            f"{file_name}: {count} of {len(named)} areas are {kind} of {other}, not {self.force.pk}; {advice}"
        )

    def by_name_for_code(self, code: str, name: str | None) -> int | None:
        """The force's area of this name, when the file gives it a code the force does not use.

        Codes change when `import_areas` replaces a force's own codes with ONS ones, so a file
        exported before (or elsewhere) can name an area under its old code. The name decides;
        the area keeps its code, which only the ONS lookup sets.
        """
        area_id = self.ids.get(self.key(name)) if name else None
        if area_id is not None:
            held = next(held for held, held_id in self.codes.items() if held_id == area_id)
            self.batch.notes.append(
                f"Area code '{code}' is not one of the force's; its rows were counted in the force's area "
                f"'{name}', whose code is {held}."
            )
        return area_id

    @staticmethod
    def key(name: str) -> str:
        key = " ".join(name.replace("&", "and").split()).casefold()
        return AREA_ALIASES.get(key, key)

    def __call__(self, names: Iterable[str | None]) -> list[int | None]:
        ids = [self.find(name) for name in names]
        self.seen.update(area_id for area_id in ids if area_id is not None)
        return ids

    def find(self, name: str | None) -> int | None:
        if not name:
            return None
        key = self.key(name)
        if key not in self.ids:
            kind = Area.Kind.OTHER if key in OTHER_AREAS else None
            self.create(name, self.free_code(f"{self.force.pk[:12]}-{slugify(name)}"), kind)
        return self.ids[key]

    def free_code(self, code: str) -> str:
        """`code` cut to the column's 20 characters, numbered if another area already holds it."""
        candidate, number = code[:20], 1
        while candidate in self.codes:
            number += 1
            candidate = f"{code[: 19 - len(str(number))].rstrip('-')}-{number}"
        return candidate

    def create(self, name: str, code: str, kind: str | None = None) -> int:
        kind = kind or (Area.Kind.BOROUGH if self.force.pk == "metropolitan" else Area.Kind.CSP)
        area = Area.objects.create(force=self.force, code=code, name=name, kind=kind, needs_review=True)
        self.batch.notes.append(f"Area '{name}' was not known and has been created; review it in the admin.")
        self.ids[self.key(name)] = self.codes[code] = area.id
        self.created[area.id] = (name, code)
        return area.id
