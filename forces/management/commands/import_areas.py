from django.core.management.base import BaseCommand, CommandError

from forces.services import InputError, import_areas


class Command(BaseCommand):
    help = (
        "Import each force's areas (Community Safety Partnerships; London boroughs for the Met) and the local "
        "authorities in each from the ONS LAD → CSP → PFA lookup CSV. All or nothing; safe to run again."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="the ONS lookup CSV, e.g. Local_Authority_District_to_..._Lookup.csv")

    def handle(self, *args, path, **options):
        try:
            counts, local_authorities = import_areas(path)
        except InputError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"Areas: {sum(counts.values())} areas in {len(counts)} forces, with {local_authorities} local "
                f"authorities, imported from {path}."
            )
        )
