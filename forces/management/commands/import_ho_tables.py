from django.core.management.base import BaseCommand, CommandError

from forces.home_office import import_ho_tables
from forces.services import InputError


class Command(BaseCommand):
    help = (
        "Import published figures from the Home Office 'Police use of force statistics' data tables (ODS or XLSX): "
        "use-of-force incidents (reports from 2023/24) by police force, and use of CED by type and police force, "
        "for every period the edition holds; also the TASER statistics of 2016 and earlier (calendar-year uses). "
        "Tables are found by their titles and columns by their headers, not by position, as layouts differ between "
        "editions. A table's period comes from its year column, else its title, else the contents or cover sheet, "
        "else the file name; quarters and calendar years are kept as such, never as financial years. Editions rank "
        "by publication date (cover sheet, else the latest period covered): the newest publication's figures are "
        "current whatever the import order, older ones stay as history. Needs load_forces first. Re-importing an "
        "edition (named by its cover sheet, or else the file name) replaces its figures; all or nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the data tables file, e.g. police-use-of-force-apr2019-mar2020-tables.ods")

    def handle(self, *args, path, **options):
        try:
            result = import_ho_tables(path)
        except InputError as error:
            raise CommandError(str(error)) from None
        periods = result["periods"]
        span = periods[0] if len(periods) == 1 else f"{', '.join(periods[:-1])} and {periods[-1]}"
        tables = ", ".join(sheet for sheet, _ in result["tables"])
        self.stdout.write(
            self.style.SUCCESS(
                f"Home Office tables: {result['figures']} figures for {span} from {tables} of "
                f"'{result['edition']}' ({result['created']} new, {result['updated']} changed, "
                f"{result['removed']} removed)."
            )
        )
        self.stdout.write(
            f"Ranked by {result['published_on_source']}: {result['published_on']:%-d %B %Y}."
            + (
                f" {result['superseded']} of its figures are revised by a newer edition already imported, "
                "which stays current."
                if result["superseded"]
                else ""
            )
        )
