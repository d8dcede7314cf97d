from django.core.management.base import BaseCommand, CommandError

from forces.services import InputError, import_population


class Command(BaseCommand):
    help = (
        "Import Census 2021 population baselines from table TS021 (ethnic group) by local authority, as a CSV "
        "downloaded from Nomis: the five group totals (Asian incl. Chinese, Black, Mixed, White, Other) and all "
        "usual residents are summed into each area through the local authorities of the ONS lookup (run "
        "import_areas first). The lookup and the census file must use the same vintage of local authority codes: "
        "the December 2016 lookup knows no authority created since (e.g. Buckinghamshire E06000060), and any "
        "unknown code stops the import. Scottish and Northern Irish rows are skipped. Replaces the 2021 baselines "
        "of the areas in the file; all or nothing; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the TS021 CSV, e.g. census2021-ts021-ltla.csv")

    def handle(self, *args, path, **options):
        try:
            areas, local_authorities, skipped = import_population(path)
        except InputError as error:
            raise CommandError(str(error)) from None
        skipped_note = f"; {skipped} Scottish or Northern Irish rows skipped" if skipped else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Population: Census 2021 baselines for {areas} areas from {local_authorities} local authorities "
                f"in {path}{skipped_note}."
            )
        )
