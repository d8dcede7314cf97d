import time
from pathlib import Path

from django.core import checks
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from tqdm import tqdm

from forces.models import Force
from forces.services import InputError
from incidents.imports.pipeline import ImportFailed, import_reports
from incidents.tasks import queue_summary_rebuild


def unrecognised_line(value):
    """One value outside a vocabulary, as the import's report lists it."""
    return f"  {value['column']}: '{value['value']}' in {value['rows']:,} row(s), counted as {value['counted_as']}"


class Command(BaseCommand):
    help = (
        "Import a use-of-force file for one force: the Metropolitan Police record-level export (CSV in UTF-8 or "
        "Windows-1252 with , or ; between values, or XLSX with sheet UoF). Importing the same file again adds "
        "nothing; a later edition of the same year updates corrected records, adds late ones and withdraws dropped "
        "ones, as a new data version. Any problem means nothing is written, unless --skip-invalid. A value outside "
        "the form's vocabularies is kept as published and counted as not stated, unless --strict; a file whose "
        "areas are mostly another force's is refused, unless --new-areas."
    )
    # Only the models' checks. All of them load every URLconf, view and admin, which the import never
    # uses: 0.6 s more, and a million-row import peaked at 423-428 MB with them, 343-355 MB without.
    # `manage.py check` still runs them all.
    requires_system_checks = [checks.Tags.models]

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--force", required=True, metavar="ID", help="data.police.uk force id, e.g. metropolitan")
        parser.add_argument(
            "--skip-invalid",
            action="store_true",
            help="write the valid rows and put the others, with their problems, in PATH.rejects.csv",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="refuse values outside the form's vocabularies (by default they are kept as published, counted as "
            "not stated and listed)",
        )
        parser.add_argument(
            "--new-areas",
            action="store_true",
            help="create the file's unknown areas even when most of its areas are unknown to a force that has areas "
            "(by default such a file is refused as another force's)",
        )

    def handle(self, *args, path, force, skip_invalid, strict, new_areas, **options):
        try:
            force_obj = Force.objects.get(pk=force)
        except Force.DoesNotExist:
            raise CommandError(f"--force: '{force}' is not a known force id; run load_forces first.") from None
        started = time.perf_counter()
        try:
            with tqdm(unit=" rows", disable=options["verbosity"] == 0) as bar:
                batch = import_reports(
                    path, force_obj, skip_invalid=skip_invalid, strict=strict, new_areas=new_areas,
                    progress=bar.update,
                )  # fmt: skip
            queue_summary_rebuild(force_obj.pk, batch.summary_cells, counted=batch.summaries_counted)
        except InputError as error:
            raise CommandError(str(error)) from None
        except ImportFailed as failure:
            for problem in failure.batch.errors:
                self.stderr.write(problem)
            raise CommandError(str(failure)) from None
        except DatabaseError as error:
            # The import's transaction is undone with the connection: nothing of the file is written.
            reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            raise CommandError(
                f"{Path(path).name}: the database stopped the import ({reason}); nothing was written. Run it again."
            ) from None
        seconds = time.perf_counter() - started
        for note in batch.notes:
            self.stdout.write(note)
        if batch.unrecognised:
            self.stdout.write("Values outside the form's vocabularies, kept as published (--strict refuses them):")
            for value in batch.unrecognised:
                self.stdout.write(unrecognised_line(value))
        written = batch.rows_added + batch.rows_changed
        self.stdout.write(
            self.style.SUCCESS(
                f"{batch.source_name}: {batch.rows_read:,} rows read, {written:,} written ({batch.rows_added:,} added, "
                f"{batch.rows_changed:,} changed), {batch.rows_unchanged:,} unchanged, {batch.rows_withdrawn:,} "
                f"withdrawn, {batch.rows_rejected:,} rejected, in {seconds:.1f} s. Data version {batch.data_version}."
            )
        )
