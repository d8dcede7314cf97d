from django.core.management.base import BaseCommand, CommandError

from forces.published_data import FetchError, fetch, load_manifest, shared_data_folder


class Command(BaseCommand):
    help = (
        "Download the published files named in published_data.toml (Home Office tables, ONS lookups, Census "
        "2021 TS021), verify each against its SHA-256 and put it where the importers and tests look: "
        "../shared/data beside the project, or SHARED_DATA. A file already there and verified is not fetched "
        "again; a download whose checksum differs is refused and nothing is kept."
    )

    def add_arguments(self, parser):
        parser.add_argument("names", nargs="*", help="only these entries of the manifest (default: all)")
        parser.add_argument("--into", help="the folder to fill (default: SHARED_DATA or ../shared/data)")
        parser.add_argument(
            "--accept-new",
            action="store_true",
            help="keep a file the manifest has no SHA-256 for yet, printing its checksum to record",
        )
        parser.add_argument("--manifest", help="another manifest (TOML)")

    def handle(self, *args, names, into, accept_new, manifest, **options):
        files = load_manifest(manifest) if manifest else load_manifest()
        unknown = sorted(set(names) - {file.name for file in files})
        if unknown:
            raise CommandError(
                f"The manifest has no entry {', '.join(unknown)}; it has {', '.join(f.name for f in files)}."
            )
        folder = into or shared_data_folder()
        # One file that cannot be fetched does not stop the others; the command still fails, naming each.
        problems = []
        for file in files:
            if names and file.name not in names:
                continue
            try:
                fetched = fetch(file, folder, accept_new=accept_new)
            except FetchError as error:
                problems.append(str(error))
                continue
            if fetched.outcome in ("accepted", "unverified"):
                self.stdout.write(
                    self.style.WARNING(
                        f"{file.name}: {fetched.path} {'kept' if fetched.outcome == 'accepted' else 'is there'} with "
                        f"SHA-256 {fetched.sha256}, which the manifest does not hold yet: record it there once checked."
                    )
                )
            else:
                self.stdout.write(f"{file.name}: {fetched.path} ({fetched.outcome}, SHA-256 verified; {file.licence})")
        if problems:
            raise CommandError(" ".join(problems))
