from django.core.management.base import BaseCommand, CommandError

from forces.local_authority_changes import name_of
from forces.services import InputError, import_population


class Command(BaseCommand):
    help = (
        "Import Census 2021 population baselines from table TS021 (ethnic group) by local authority: Nomis's "
        "census2021-ts021.zip, or the census2021-ts021-ltla.csv inside it. The five group totals (Asian incl. "
        "Chinese, Black, Mixed, White, Other) and all usual residents are summed into each area and each force "
        "through the local authorities of the ONS lookup (run import_areas first). The census and the lookup may "
        "use the codes of different years (Census 2021 has Buckinghamshire as E06000060, the December 2016 lookup "
        "as four districts): the code history since 2016 relates them. Areas that one census authority covers "
        "together get no baseline of their own; their force's total holds them. A code the history does not know "
        "stops the import. Scottish and Northern Irish rows are skipped. Replaces the 2021 baselines of the areas "
        "and forces in the file; all or nothing; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the TS021 ZIP or CSV, e.g. census2021-ts021.zip")

    def handle(self, *args, path, **options):
        try:
            result = import_population(path)
        except InputError as error:
            raise CommandError(str(error)) from None
        skipped_note = f"; {result.skipped} Scottish or Northern Irish rows skipped" if result.skipped else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Population: Census 2021 baselines for {result.areas} areas from {result.local_authorities} local "
                f"authorities in {path}{skipped_note}. Whole forces: {result.forces}."
            )
        )
        for code, areas in result.shared:
            self.stdout.write(
                f"Census 2021 counts {name_of(code)} ({code}) as one, where the lookup has the areas "
                f"{', '.join(area.name for area in areas)}: they have no baseline of their own, and count in "
                f"{areas[0].force.name}'s."
            )
