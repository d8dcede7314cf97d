from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.template.defaultfilters import filesizeformat

from forces.models import Force
from incidents.imports.uploads import safe_file_name

UPLOAD_SUFFIXES = ("csv", "xlsx")


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

    def upload_options(self):
        """The force and import options chosen, as store_upload takes them (the form itself writes nothing)."""
        force = self.own_force or self.cleaned_data["force"]
        options = {name: self.cleaned_data[name] for name in ("skip_invalid", "strict", "new_areas")}
        return {"force": force, **options}
