import re
import shutil
from pathlib import PureWindowsPath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.template.defaultfilters import filesizeformat

from forces.models import Force
from incidents.models import ImportBatch
from incidents.recovery import new_lease
from incidents.tasks import upload_folder, uploaded_file

UPLOAD_SUFFIXES = ("csv", "xlsx")


def safe_file_name(client_name):
    """A plain file name to store an upload under; the name the client sent is never trusted.

    Only its last path part survives (either slash), then only letters, digits, '_' and
    '-' in the stem, so no name can climb out of the batch's folder, hide itself behind a
    leading dot, or pass for the "<stem>.rejects.csv" the import writes beside it.
    """
    base = PureWindowsPath(client_name or "").name  # a Windows path splits at / and at \
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    stem = re.sub(r"[^\w-]+", "_", stem).strip("_-")[:100] or "upload"
    suffix = re.sub(r"[^a-z0-9]+", "", suffix.lower())[:10]
    return f"{stem}.{suffix}" if suffix else stem


def check_upload(upload):
    """Refuse, with a sentence a person can act on, a file the importer must not be given."""
    name = safe_file_name(upload.name)
    suffix = name.rpartition(".")[2] if "." in name else ""
    if suffix not in UPLOAD_SUFFIXES:
        shown = f"a .{suffix} file" if suffix else "a file without an extension"
        raise ValidationError(f"Upload a .csv or .xlsx file; “{upload.name}” is {shown}.", code="extension")
    limit = settings.IMPORT_UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise ValidationError(
            f"“{upload.name}” is {filesizeformat(upload.size)}; uploads may be at most {filesizeformat(limit)}. "
            "Split the file by year, or import it on the server with manage.py import_uof.",
            code="too_large",
        )


def store_upload(upload, *, force, user, skip_invalid=False, strict=False, new_areas=False):
    """Make the pending batch of an upload and put the file in its folder; returns the batch."""
    name = safe_file_name(upload.name)
    with transaction.atomic():
        batch = ImportBatch.objects.create(
            force=force, uploaded_by=user, source_name=name, status=ImportBatch.Status.PENDING,
            skip_invalid=skip_invalid, strict=strict, new_areas=new_areas, lease_until=new_lease(),
        )  # fmt: skip
        folder = upload_folder(batch.pk)
        # Ids are never reused, so a folder of this id is a leftover of an earlier database.
        shutil.rmtree(folder, ignore_errors=True)
        try:
            folder.mkdir(parents=True)
            with uploaded_file(batch).open("wb") as stored:
                for chunk in upload.chunks():
                    stored.write(chunk)
        except OSError:
            shutil.rmtree(folder, ignore_errors=True)  # the batch row is rolled back with it
            raise
    return batch


class UploadForm(forms.Form):
    file = forms.FileField(
        label="Use-of-force file",
        help_text="The force's use-of-force export, as .csv or .xlsx.",
    )
    skip_invalid = forms.BooleanField(
        label="Skip invalid rows",
        required=False,
        help_text="Import the good rows and put the others, with their problems, in a reject file. "
        "Unticked, a file with any problem imports nothing.",
    )
    strict = forms.BooleanField(
        label="Refuse unrecognised values",
        required=False,
        help_text="Treat a value outside the national form's vocabularies as a problem. Unticked, such a value is "
        "kept as published, counted as not stated and listed on the import's page.",
    )
    new_areas = forms.BooleanField(
        label="The file's areas are new areas of the force",
        required=False,
        help_text="Create the areas the force does not know even when they are most of the file's. Unticked, such "
        "a file is refused as another force's.",
    )
    force = forms.ModelChoiceField(queryset=Force.objects.order_by("name"), help_text="The force whose data this is.")

    def __init__(self, *args, force=None, **kwargs):
        """`force`: the uploader's own force; without one (a superuser) the form asks for it."""
        super().__init__(*args, **kwargs)
        self.own_force = force
        if force is not None:
            del self.fields["force"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        check_upload(upload)
        return upload

    def save(self, *, user):
        force = self.own_force or self.cleaned_data["force"]
        options = {name: self.cleaned_data[name] for name in ("skip_invalid", "strict", "new_areas")}
        return store_upload(self.cleaned_data["file"], force=force, user=user, **options)
