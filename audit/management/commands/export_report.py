import json

from django.core.management.base import BaseCommand, CommandError
from django.core.serializers.json import DjangoJSONEncoder

from audit.queries import report_dossier
from incidents.models import UseOfForceReport


class Command(BaseCommand):
    help = (
        "Write everything held about one report as JSON, for an access request: the record, its CED uses, its "
        "provenance, the panels' samples, reviews (drafts too), findings and actions about it, and its audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("report", type=int, help="The report's id (as in /reports/<id>/)")
        parser.add_argument("--output", help="A file to write; by default the JSON goes to standard output")

    def handle(self, *args, report, output=None, **options):
        found = UseOfForceReport.objects.select_related("import_batch__uploaded_by").filter(pk=report).first()
        if found is None:
            raise CommandError(f"No report {report}: give the id of a report, as in /reports/<id>/.")
        text = json.dumps(report_dossier(found), cls=DjangoJSONEncoder, indent=2)
        if output:
            try:
                with open(output, "w", encoding="utf-8") as handle:
                    handle.write(text + "\n")
            except OSError as error:
                raise CommandError(f"--output: cannot write {output}: {error.strerror}.") from None
            self.stderr.write(f"Report {report} written to {output}.")
        else:
            self.stdout.write(text)
