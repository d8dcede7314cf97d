"""The imports API: a force data officer uploads a use-of-force file; PCC staff and officers follow its batches."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from forces.api import FORCE_IDS
from forces.authentication import TokenAccess
from forces.models import Force
from forces.roles import force_of
from incidents.forms import check_upload
from incidents.imports.uploads import has_rejects, store_upload
from incidents.models import (
    ImportBatch,
)
from incidents.queries import (
    UNIT_OF_COUNT,
    batches_visible_to,
    may_upload,
    may_view_imports,
)
from incidents.tasks import NOT_QUEUED, QUEUE_RETRY_SECONDS, enqueue_import, rows_read_so_far
from oversight.api import (
    CsvListMixin,
)


@extend_schema_field(OpenApiTypes.BINARY)
class UploadField(serializers.FileField):
    """The file's bytes, sent as multipart/form-data: what a generated client or the docs page can send."""


@extend_schema_field({"type": "string", "enum": FORCE_IDS})
class ForceIdField(serializers.SlugRelatedField):
    """A force by its data.police.uk id: the schema lists the ids."""


class UnrecognisedValueSerializer(serializers.Serializer):
    column = serializers.CharField(help_text="The file's column")
    value = serializers.CharField(help_text="The value as published, kept on the records")
    rows = serializers.IntegerField(help_text="Rows holding it")
    counted_as = serializers.CharField(help_text="What the product counts it as")


class ImportBatchSerializer(serializers.ModelSerializer):
    force = serializers.CharField(source="force_id", help_text="data.police.uk force id")
    rows_read = serializers.SerializerMethodField(help_text="Rows read so far while running; all rows after")
    unit_of_count = serializers.SerializerMethodField(help_text="What one row of the file counts")
    status_url = serializers.SerializerMethodField(help_text="Poll this until status is succeeded or failed")
    rejects_url = serializers.SerializerMethodField(help_text="The rows left out by skip_invalid, if any")
    unrecognised = UnrecognisedValueSerializer(
        many=True, read_only=True, help_text="Values outside the national form's vocabularies, by column and value"
    )

    class Meta:
        model = ImportBatch
        fields = [
            "id", "force", "status", "source_name", "source_format", "data_version", "created_at", "finished_at",
            "rows_read", "rows_added", "rows_changed", "rows_unchanged", "rows_withdrawn", "rows_rejected",
            "errors", "notes", "unrecognised", "unit_of_count", "status_url", "rejects_url",
        ]  # fmt: skip
        read_only_fields = fields

    def get_rows_read(self, batch) -> int:
        return rows_read_so_far(batch)

    def get_unit_of_count(self, batch) -> str:
        return UNIT_OF_COUNT

    def get_status_url(self, batch) -> str:
        return self.absolute(reverse("api-import-detail", args=[batch.pk]))

    def get_rejects_url(self, batch) -> str | None:
        return self.absolute(reverse("import-batch-rejects", args=[batch.pk])) if has_rejects(batch) else None

    def absolute(self, path):
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ImportUploadSerializer(serializers.Serializer):
    file = UploadField(help_text="The use-of-force export, .csv or .xlsx")
    force = ForceIdField(slug_field="id", queryset=Force.objects.all(), help_text="data.police.uk id of your force")
    skip_invalid = serializers.BooleanField(
        default=False, help_text="Import the good rows and put the others in a reject file"
    )
    strict = serializers.BooleanField(
        default=False, help_text="Refuse values outside the form's vocabularies (else kept, counted as not stated)"
    )
    new_areas = serializers.BooleanField(
        default=False,
        help_text="Create unknown areas even when most of the file's are (else refused as another force's)",
    )

    def validate_file(self, upload):
        try:
            check_upload(upload)
        except DjangoValidationError as error:
            raise ValidationError(error.messages) from error
        return upload

    def create(self, validated_data):
        user = self.context["request"].user
        return store_upload(
            validated_data["file"],
            force=validated_data["force"],
            user=user,
            skip_invalid=validated_data["skip_invalid"],
            strict=validated_data["strict"],
            new_areas=validated_data["new_areas"],
        )


class MayImport(permissions.BasePermission):
    """Force data officers upload; they and PCC staff follow their force's imports."""

    def has_permission(self, request, view):
        if request.method in permissions.SAFE_METHODS:
            self.message = "Imports are for force data officers and PCC staff."
            return may_view_imports(request.user)
        self.message = "Only force data officers upload use-of-force files."
        return may_upload(request.user)


@extend_schema_view(
    list=extend_schema(summary="Your force's imports, newest first"),
    retrieve=extend_schema(summary="One import: its status, counts, problems and data version"),
)
class ImportViewSet(
    CsvListMixin, mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Use-of-force file imports of the caller's force."""

    serializer_class = ImportBatchSerializer
    permission_classes = [permissions.IsAuthenticated, MayImport, TokenAccess]
    filterset_fields = ["status"]
    csv_filename = "imports.csv"

    def get_queryset(self):
        # Another force's batch is "not found", never "forbidden": its existence is not shown.
        return batches_visible_to(self.request.user)

    @extend_schema(
        summary="Upload a file to import; answers at once, the import runs in the background",
        request={"multipart/form-data": ImportUploadSerializer},
        responses={
            202: OpenApiResponse(ImportBatchSerializer, description="Accepted; poll status_url"),
            503: OpenApiResponse(
                ImportBatchSerializer,
                description="The task queue did not answer: the file is kept and imported once it does; poll "
                "status_url (Retry-After says when to look), do not upload again",
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        own_force = force_of(request.user)
        named = request.data.get("force")
        # Checked before the file, so a wrong force is refused whatever the file holds.
        if not request.user.is_superuser and named and named != own_force.pk:
            raise PermissionDenied(f"You may upload only for your own force, '{own_force.pk}', not '{named}'.")
        upload = ImportUploadSerializer(data=request.data, context=self.get_serializer_context())
        upload.is_valid(raise_exception=True)
        batch = upload.save()
        queued = enqueue_import(batch.pk)
        batch.refresh_from_db()  # without a broker the import has already run, in this request
        body = ImportBatchSerializer(batch, context=self.get_serializer_context()).data
        if not queued:
            # The file is kept and its batch waits: the client follows status_url, not uploading again.
            body = {"message": NOT_QUEUED, **body}
            headers = {"Location": body["status_url"], "Retry-After": str(QUEUE_RETRY_SECONDS)}
            return Response(body, status=status.HTTP_503_SERVICE_UNAVAILABLE, headers=headers)
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["status_url"]})
