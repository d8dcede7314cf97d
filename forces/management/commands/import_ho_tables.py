from django.core.management.base import BaseCommand, CommandError

from forces.home_office import import_ho_tables
from forces.services import InputError


class Command(BaseCommand):
    help = (
        "Import published figures from the Home Office 'Police use of force statistics' data tables (ODS or XLSX): "
        "use-of-force incidents (reports from 2023/24) by police force, and use of CED by type and police force, "
        "for every financial year the edition holds. Tables are found by their titles and columns by their "
        "headers, not by position, as layouts differ between editions; a table without a Financial year column "
        "takes its year from its title. Needs load_forces first. Re-importing an edition (named by its cover sheet, "
        "or else the file name) replaces its figures; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the data tables file, e.g. police-use-of-force-apr2019-mar2020-tables.ods")

    def handle(self, *args, path, **options):
        try:
            result = import_ho_tables(path)
        except InputError as error:
            raise CommandError(str(error)) from None
        years = result["years"]
        span = years[0] if len(years) == 1 else f"{years[0]} to {years[-1]}"
        tables = ", ".join(sheet for sheet, _ in result["tables"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Home Office tables: {result['figures']} figures for {span} from {tables} of "
                f"'{result['edition']}' ({result['created']} new, {result['updated']} changed, "
                f"{result['removed']} removed)."
            )
        )
