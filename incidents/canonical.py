"""The product's own CSV format: one column per field of the national form, documented.

The columns come from the models, so the format, its reader, its writer and the data
dictionary (docs/data-dictionary.md) cannot drift apart. A report's devices are flattened
into columns ced1_… to ced4_…. Values are the codes the product stores (e.g. `18_34`,
`not_reported`, conduct 1–6, highest level 0–7), booleans `yes`/`no` and empty for "not
stated". `source_key` is the record's identity: re-importing an export changes nothing.
"""

import csv

import pyarrow as pa
import pyarrow.compute as pc
from django.db import models
from django.db.models import Case, F, FilteredRelation, Func, Q, Value, When
from django.db.models.functions import NullIf

from incidents import vocabularies
from incidents.columns import KEPT_LENGTH, Columns, any_of, dates, normal, times
from incidents.met_format import AREA_LENGTHS
from incidents.models import LADDER, CedUse, ImportBatch, UseOfForceReport, highest_level_of
from oversight.spreadsheets import neutralised

FORMAT = ImportBatch.Format.CANONICAL
DEVICES = 4
# Report fields that are provenance or internal, not part of the form.
NOT_EXPORTED = {"id", "force", "area", "import_batch", "source_row", "source_key", "content_hash", "data_version"}
NOT_EXPORTED |= {"withdrawn_in_version", "highest_ced_level", "unrecognised"}
DEVICE_NOT_EXPORTED = {"id", "report", "device_number"}

_LADDER_FLAGS = {flag for _, flag in LADDER}
# In the form's order, the ladder levels after "CED used" (the model lists them first).
REPORT_FIELDS = [f for f in UseOfForceReport._meta.concrete_fields if f.name not in NOT_EXPORTED | _LADDER_FLAGS] + [
    UseOfForceReport._meta.get_field(flag) for _, flag in reversed(LADDER)
]
DEVICE_FIELDS = [f for f in CedUse._meta.concrete_fields if f.name not in DEVICE_NOT_EXPORTED]
LEADING = ["source_key", "force", "area_code", "area_name"]


def device_column(number, field):
    return f"ced{number}_{field.name}"


HEADER = (
    LEADING
    + [f.name for f in REPORT_FIELDS]
    + ["highest_ced_level"]
    + [device_column(n, f) for n in range(1, DEVICES + 1) for f in DEVICE_FIELDS]
)
KNOWN = {normal(name) for name in HEADER}
# The form's own Yes/No fields: a value outside yes/no is kept, where the CED ladder's is a problem.
LENIENT_FIELDS = {
    field.name
    for field in REPORT_FIELDS
    if isinstance(field, models.BooleanField)
    and field.name.startswith(("location_", "impact_", "reason_", "outcome_", "officer_"))
}


def is_header(header):
    return {"source_key", "occurred_on"} <= {normal(name) for name in header}


def is_known(name):
    return normal(name) in KNOWN


def digest_name(name):
    """The name by which a column's cells are ordered in a record's content digest: as written.

    The canonical CSV has one spelling of each column (compared case- and spacing-blind).
    """
    return normal(name)


# --- reading ------------------------------------------------------------------------------


def read_field(columns, name, field):
    """One column as the field's values, with a problem for each cell that does not fit."""
    if isinstance(field, models.BooleanField):
        return columns.yes_no(name, nullable=field.null)
    if isinstance(field, models.DateField):
        return dates(columns, name)
    if isinstance(field, models.TimeField):
        return times(columns, name)
    if isinstance(field, models.JSONField):  # probe zones, written as space-separated codes
        return pa.array(
            [json_list(text) for text in columns.text(name).to_pylist()],
            pa.string(),
        )
    if field.choices:
        value_type = pa.int64() if isinstance(field, models.IntegerField) else pa.string()
        if field.name in vocabularies.FIELDS:
            return columns.choice(name, vocabularies.FIELDS[field.name], value_type)
        # The CED devices' choices (the device model) are strict, as the ladder is: codes only.
        codes = ", ".join(str(value) for value, _ in field.choices)
        labels = {str(value): value for value, _ in field.choices} | ({"": ""} if field.blank else {})
        strict = vocabularies.Vocabulary(labels, "", "", f"is not one of {codes}")
        return columns.choice(name, strict, value_type, strict=True)
    if isinstance(field, models.IntegerField):
        return columns.whole_number(name)
    text = columns.text(name)
    if field.name == "subject_ethnicity_source":
        # The subject is described only by the form's categories: this keeps the label a source
        # used (Chinese, Don't know), never free text about a person.
        known = columns.known(name, vocabularies.ETHNICITY)
        columns.invalid(pc.invert(known), name, "is not an ethnic group of a published edition (e.g. Chinese)")
    too_long = pc.greater(pc.utf8_length(text), field.max_length)
    columns.invalid(too_long, name, f"is longer than {field.max_length} characters")
    return text


def json_list(text):
    return "[" + ", ".join(f'"{code}"' for code in text.split()) + "]"


def identity(batch):
    """Each record's source key, read before the rest of the row is converted (an unchanged row never is)."""
    columns = Columns(batch.select([name for name in batch.schema.names if normal(name) == "source_key"]), 0, None)
    return columns.text("source_key")


def convert(batch, first_row, errors, areas, force_id, unrecognised=None):
    """A batch of canonical CSV → (report columns, CED-use rows); see met_format.convert."""
    columns = Columns(batch, first_row, errors, unrecognised=unrecognised)
    columns.read_yes_no(
        [field.name for field in REPORT_FIELDS if isinstance(field, models.BooleanField)]
        + [
            device_column(n, f)
            for n in range(1, DEVICES + 1)
            for f in DEVICE_FIELDS
            if isinstance(f, models.BooleanField)
        ],
        lenient=LENIENT_FIELDS,
    )
    report = {field.name: read_field(columns, field.name, field) for field in REPORT_FIELDS}
    if (kept := columns.kept_as_published()) is not None:
        report["unrecognised"] = kept
    blank_key = pc.equal(columns.text("source_key"), "")
    columns.invalid(blank_key, "source_key", "is empty; every record needs its identity")
    codes, names = (
        columns.within_length(f"area_{field}", AREA_LENGTHS[field]).to_pylist() for field in ("code", "name")
    )
    report["area"] = pa.array(areas.by_code(codes, names), pa.int64())

    # The highest level is derived by the ladder rule, never taken on trust.
    flags = {flag: report[flag].to_pylist() for _, flag in LADDER}
    used = report["ced_used"].to_pylist()
    derived = [
        highest_level_of({flag: values[i] for flag, values in flags.items()})
        if used[i] or any(values[i] for values in flags.values())
        else None
        for i in range(batch.num_rows)
    ]
    stated = columns.text("highest_ced_level").to_pylist()
    for index, (given, level) in enumerate(zip(stated, derived, strict=True)):
        if given != "" and (level is None or given != str(int(level))):
            highest = "none" if level is None else int(level)
            errors.add(
                first_row + index, "highest_ced_level", given, f"contradicts the levels used (highest: {highest})"
            )
    report["ced_used"] = pa.array([level is not None for level in derived])
    report["highest_ced_level"] = pa.array([None if level is None else int(level) for level in derived], pa.int64())

    ced_uses = []
    for number in range(1, DEVICES + 1):
        values = {field.name: read_field(columns, device_column(number, field), field) for field in DEVICE_FIELDS}
        # A device block is used when it records a level or names a device.
        used = pc.or_(pc.not_equal(values["device_model"], ""), any_of([values[f] for _, f in LADDER], batch.num_rows))
        rows = pc.indices_nonzero(used)
        uses = {"row": rows, "device_number": pa.array([number] * len(rows), pa.int64())}
        ced_uses.append(pa.table(uses | {name: pc.take(array, rows) for name, array in values.items()}))
    forces = pc.not_equal(columns.text("force"), force_id)
    columns.invalid(
        pc.and_(forces, pc.not_equal(columns.text("force"), "")), "force", f"is not {force_id}, the force imported into"
    )
    return report, pa.concat_tables(ced_uses)


# --- writing ------------------------------------------------------------------------------


def _text(field):
    """How a field's value is written: booleans yes/no, times HH:MM, lists space-separated, None empty;
    text a spreadsheet would run as a formula with a leading apostrophe (the importers read it back as it was)."""
    if isinstance(field, models.BooleanField):
        return {True: "yes", False: "no", None: ""}.__getitem__
    if isinstance(field, models.TimeField):
        return lambda value: "" if value is None else value.strftime("%H:%M")
    if isinstance(field, models.JSONField):
        return lambda value: neutralised(" ".join(value)) if value else ""
    return lambda value: "" if value is None else neutralised(value) if isinstance(value, str) else value


_REPORT_TEXT = [_text(field) for field in REPORT_FIELDS] + [
    _text(UseOfForceReport._meta.get_field("highest_ced_level"))
]
_DEVICE_TEXT = [_text(field) for field in DEVICE_FIELDS]
_NO_DEVICE = [""] * len(DEVICE_FIELDS)


def rows(reports, chunk=5000):
    """The header, then one list per report (a queryset), read in chunks: memory stays flat."""
    yield HEADER
    columns = ["id", "source_key", "force_id", "area__code", "area__name"]
    columns += [field.attname for field in REPORT_FIELDS] + ["highest_ced_level"]
    values = reports.order_by("id").values_list(*columns)
    device_columns = ["report_id", "device_number"] + [field.attname for field in DEVICE_FIELDS]
    last_id = None
    while True:
        page = list((values.filter(id__gt=last_id) if last_id else values)[:chunk])
        if not page:
            return
        last_id = page[-1][0]
        devices = {}
        for use in CedUse.objects.filter(report_id__in=[row[0] for row in page]).values_list(*device_columns):
            devices[(use[0], use[1])] = [text(value) for text, value in zip(_DEVICE_TEXT, use[2:], strict=True)]
        for row in page:
            line = [neutralised(row[1]), row[2], neutralised(row[3] or ""), neutralised(row[4] or "")]
            line += [text(value) for text, value in zip(_REPORT_TEXT, row[5:], strict=True)]
            for number in range(1, DEVICES + 1):
                line += devices.get((row[0], number), _NO_DEVICE)
            yield line


def _sql_text(field, path):
    """The field at `path` as rows() writes it, in SQL: NULL for what rows() leaves empty."""
    if isinstance(field, models.BooleanField):
        return Case(When(**{path: True}, then=Value("yes")), When(**{path: False}, then=Value("no")), default=None)
    if isinstance(field, models.TimeField):
        return Func(F(path), Value("HH24:MI"), function="to_char", output_field=models.CharField())
    if isinstance(field, models.DateField):
        return Func(F(path), Value("YYYY-MM-DD"), function="to_char", output_field=models.CharField())
    if isinstance(field, models.JSONField):
        return _neutralised_sql(Func(F(path), template=_CODES_SEPARATED_BY_SPACES, output_field=models.CharField()))
    if isinstance(field, models.CharField):
        return _neutralised_sql(NullIf(F(path), Value("")))
    return F(path)


_CODES_SEPARATED_BY_SPACES = (
    "NULLIF(array_to_string(ARRAY(SELECT jsonb_array_elements_text(%(expressions)s)), ' '), '')"
)


def _neutralised_sql(text):
    """oversight.spreadsheets.neutralised in SQL: text that starts as a formula gets a leading apostrophe."""
    return Func(text, template=_NEUTRALISED, output_field=models.CharField())


# One regexp_replace, so the column is named once (and its parameters, such as NULLIF's, given once).
_NEUTRALISED = r"regexp_replace(%(expressions)s, '^([-=+@\t\r])', '''\1')"


def copy_query(reports):
    """The rows of rows() but the header, as one query for PostgreSQL's COPY: the same CSV, written in C.

    Each device block is a join on its device number; every value is text as rows() writes it
    (COPY writes NULL as an empty cell).
    """
    devices = {f"ced{n}": FilteredRelation("ced_uses", condition=Q(ced_uses__device_number=n)) for n in range(1, 5)}
    columns = [_neutralised_sql(NullIf(F("source_key"), Value(""))), F("force_id")]
    columns += [_neutralised_sql(F("area__code")), _neutralised_sql(F("area__name"))]
    columns += [_sql_text(field, field.attname) for field in REPORT_FIELDS] + [F("highest_ced_level")]
    columns += [_sql_text(field, f"ced{n}__{field.attname}") for n in range(1, DEVICES + 1) for field in DEVICE_FIELDS]
    return reports.annotate(**devices).order_by("id").values_list(*columns)


def write(reports, handle):
    """Write reports (a queryset) as canonical CSV to a text handle."""
    csv.writer(handle).writerows(rows(reports))


# --- documentation ------------------------------------------------------------------------


def describe(field):
    parts = [str(field.verbose_name)]
    if field.help_text:
        parts.append(str(field.help_text))
    if field.choices:
        parts.append("; ".join(f"`{value}` {label}" for value, label in field.choices))
    elif isinstance(field, models.BooleanField):
        parts.append("`yes` or `no`" + (", empty for not stated" if field.null else ""))
    elif isinstance(field, models.DateField):
        parts.append("YYYY-MM-DD")
    elif isinstance(field, models.TimeField):
        parts.append("HH:MM")
    elif isinstance(field, models.JSONField):
        parts.append("codes separated by spaces")
    return ". ".join(part.rstrip(".") for part in parts) + "."


def data_dictionary():
    """docs/data-dictionary.md, made from the models (a test keeps the file current)."""
    lines = [
        "# Data dictionary: the canonical use-of-force CSV",
        "",
        "One row per report: one officer's use of force on one person. `import_uof PATH --force ID` reads it;",
        "the API's CSV export of reports writes it. Columns may come in any order; unknown columns are reported",
        "and ignored. Generated from the models by `incidents.canonical.data_dictionary()`.",
        "",
        "| column | meaning and values |",
        "|---|---|",
        "| `source_key` | The record's identity across editions; an export re-imported matches on it. Required. |",
        "| `force` | data.police.uk force id; must be the force imported into. |",
        "| `area_code` | Code of the area (ONS CSP code, or the force's own), at most 20 characters. |",
        "| `area_name` | Name of the area, at most 120 characters. A code the force does not use is matched to "
        "its area of this name, or else creates an area for review. |",
    ]
    lines += [f"| `{field.name}` | {describe(field)} |" for field in REPORT_FIELDS]
    lines.append(
        "| `highest_ced_level` | Highest CED level, by the ladder rule over the level columns (0 not stated, "
        "1 drawn … 7 angle drive stun; empty when no CED was used). Checked, not trusted, on import. |"
    )
    lines += ["", f"Devices: columns `ced1_…` to `ced{DEVICES}_…`, one set per device block of the form.", ""]
    lines += ["| column | meaning and values |", "|---|---|"]
    lines += [f"| `cedN_{field.name}` | {describe(field)} |" for field in DEVICE_FIELDS]
    return "\n".join(lines + vocabulary_lines()) + "\n"


def vocabulary_lines():
    """The data dictionary's part on vocabularies: every label each categorical column is read as."""
    lines = [
        "",
        "## Vocabularies: the labels read in each categorical column",
        "",
        "Both this CSV and the Met's export are read through one vocabulary per field of the national form",
        "(`incidents/vocabularies.py`): the product's codes and labels, and every label the Home Office tables",
        "(2017/18 on) and the Met's export have used. Labels are matched whatever their case and spacing, dashes",
        "(`11 - 17`, `11–17`), brackets (`Black (or Black British)`, `Black or Black British`) and apostrophes",
        "(`Don't know`, `Dont know`). A value outside its vocabulary is kept on the record as published (in",
        f"`unrecognised`, at most {KEPT_LENGTH} characters), counted as not stated, and listed with its rows in the",
        "import's report; `import_uof --strict` (and the upload page's and the API's strict option) refuses it",
        "instead. Dates, numbers and the CED ladder's and devices' columns are always strict.",
    ]
    for name, vocabulary in vocabularies.FIELDS.items():
        field = UseOfForceReport._meta.get_field(name)
        labels = {}
        for label, value in vocabulary.labels.items():
            labels.setdefault(value, []).append(f"`{label}`" if label else "blank")
        lines += ["", f"`{name}` ({field.verbose_name}); outside the vocabulary: {vocabulary.counted_as}.", ""]
        lines += ["| value | labels read as it |", "|---|---|"]
        lines += [f"| `{'' if value is None else value}` | {', '.join(shown)} |" for value, shown in labels.items()]
    lines += [
        "",
        "Yes/No columns read `Yes`, `Y`, `True`, `No`, `N`, `False` (any case) and blank. The form's options",
        "(locations, impact factors, reasons, outcomes) are one Yes/No column each; in the Met's export their",
        "columns are named `<group>: <label>`, with any of these labels:",
        "",
        "| field | labels |",
        "|---|---|",
    ]
    for options in (vocabularies.LOCATIONS, vocabularies.IMPACT_FACTORS, vocabularies.REASONS, vocabularies.OUTCOMES):
        lines += [f"| `{name}` | {', '.join(f'`{label}`' for label in labels)} |" for name, labels in options.items()]
    return lines
