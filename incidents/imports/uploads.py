"""Uploaded files and the reject files imports write beside them: one folder per import batch."""

import csv
import re
import shutil
from pathlib import Path, PureWindowsPath
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from forces.models import Force
from incidents.models import ImportBatch
from incidents.readers import Table
from incidents.recovery import new_lease
from oversight.spreadsheets import cell


def upload_folder(batch_id: int) -> Path:
    """Where an upload and its reject file live: one folder per batch, named by its id."""
    return Path(settings.MEDIA_ROOT) / "imports" / str(batch_id)


def uploaded_file(batch: ImportBatch) -> Path:
    return upload_folder(batch.pk) / batch.source_name


def reject_file(batch: ImportBatch) -> Path:
    # The name import_reports' RejectFile gives it: beside the input, "<stem>.rejects.csv".
    path = uploaded_file(batch)
    return path.with_name(f"{path.stem}.rejects.csv")


def has_rejects(batch: ImportBatch) -> bool:
    return batch.status == ImportBatch.Status.SUCCEEDED and batch.rows_rejected > 0 and reject_file(batch).is_file()


def safe_file_name(client_name: str | None) -> str:
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


def store_upload(
    upload: UploadedFile,
    *,
    force: Force,
    user: Any,
    skip_invalid: bool = False,
    strict: bool = False,
    new_areas: bool = False,
) -> ImportBatch:
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


class RejectFile:
    """The rows that had problems, with their reasons, beside the input file."""

    def __init__(self, table: Table) -> None:
        self.path = table.path.with_name(f"{table.path.stem}.rejects.csv")
        self.handle = self.path.open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.handle)
        # The file's own text goes back to the person who fixes it: no cell of it may run as a formula.
        self.writer.writerow(["row", "problems", *map(cell, table.header)])
        self.rows = 0

    def write(self, rows: pa.Table, first_row: int, bad: dict[int, list[str]]) -> None:
        indexes = sorted(row - first_row for row in bad)
        values = [pc.take(column, pa.array(indexes)).to_pylist() for column in rows.columns]
        for position, index in enumerate(indexes):
            row = first_row + index
            self.writer.writerow([row, cell("; ".join(bad[row])), *(cell(column[position]) for column in values)])
        self.rows += len(indexes)

    def close(self) -> None:
        self.handle.close()


# --- summaries --------------------------------------------------------------------------------
