"""Seizures by spreadsheet: a ready template, imports all-or-nothing, exports.

The importer is defended before any XML is parsed: size, number of zip members, total
unpacked size and each member's compression ratio are checked on the raw bytes, and
openpyxl parses with defusedxml, so entity expansion and external entities fail.
The work is bounded too: a sheet that declares more rows or columns than a seizure
sheet can hold is refused before it is read, every row (blank ones too) counts against
the row limit while reading, only the columns the header names are read, and the whole
import stops at SPREADSHEET_MAX_SECONDS.
Every row goes through the same rules as the form (`clean_seizure_input`).

A row is known by its id (the `client_uuid` column, last in the template and in every
export, pre-filled in the template), never by the file's bytes or its place in the file:
an officer keeps one sheet for the whole operation and uploads it again and again. A
row already imported and unchanged is skipped; a changed one corrects its seizure while
that awaits validation and is refused after. A row without an id is matched on its
content (`content_key`) and the report warns about it.
"""

import csv
import io
import itertools
import time
import uuid
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from core.audit import Action, audit_record
from core.bulk import bulk_insert
from core.errors import Forbidden
from core.vocabularies import VOCABULARIES
from groups.stream import EventType, event_new, events_append, seqs_take
from messaging.services import check_may_post, message_data

from .handling import operation_handling, seizures_leaving_group
from .models import Operation, Seizure
from .search import seizures_search_index
from .seizure_rules import CHOICES, FIELDS, clean_seizure_input
from .services import (
    check_accepts_seizures,
    seizure_amend,
    seizure_locked_reason,
    seizure_message,
)
from .spreadsheet_labels import (
    COUNTRY_COLUMNS,
    SHEET_TITLE,
    choices_of,
    column_label,
    fold,
    header_name,
    sheet_titles,
    to_codes,
)

# The id last: it is for the platform, not for the officer typing the row.
COLUMNS = [*FIELDS, "client_uuid"]
# Read from an export uploaded again; they are the platform's, never imported.
EXPORT_ONLY_COLUMNS = ("status", "rejection_reason", "reporting_administration", "handling_code")
REQUIRED_COLUMNS = {
    "seizure_date",
    "reporting_country",
    "place",
    "commodity_category",
    "quantity",
    "unit",
}
EXPORT_COLUMNS = [*EXPORT_ONLY_COLUMNS, *FIELDS, "client_uuid"]
# Rows of the template that carry an id ready for the officer to fill in.
TEMPLATE_ROWS = 2000
MAX_MEMBERS = 200
MAX_UNPACKED = 200 * 1024 * 1024
MAX_RATIO = 100
# The template's columns, with room for blank columns a user leaves between them; a
# sheet wider than this is not a seizure sheet (openpyxl would pad every row to it).
MAX_COLUMNS = 2 * len(COLUMNS)
UUID_NAMESPACE = uuid.UUID("5b1d0c6e-9a49-4b89-9f0e-0c3e2a7b6d15")


@dataclass
class ImportReport:
    rows: int = 0
    created: int = 0
    already_there: int = 0
    updated: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    # Rows imported all the same, that the officer should know about (no id).
    warnings: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


class SpreadsheetError(ValidationError):
    """The file as a whole cannot be read (before any row is looked at)."""


class Deadline:
    """The moment an import must be over; `check` refuses the file once it has passed."""

    def __init__(self, seconds: int | None = None):
        self.seconds = settings.SPREADSHEET_MAX_SECONDS if seconds is None else seconds
        self.at = time.monotonic() + self.seconds

    def check(self) -> None:
        if time.monotonic() >= self.at:
            raise SpreadsheetError(
                _("Importing the file took more than %(seconds)d seconds: nothing was imported.")
                % {"seconds": self.seconds}
            )


class _DeadlineStream(io.BytesIO):
    """The workbook's bytes, read by the zip module chunk by chunk: each chunk checks the
    deadline, so openpyxl's own parsing (shared strings, styles, one endless row) is
    bounded too, without a check per cell."""

    def __init__(self, data: bytes, deadline: Deadline):
        super().__init__(data)
        self.deadline = deadline

    def read(self, size: int | None = -1) -> bytes:
        self.deadline.check()
        return super().read(size)


# ---- template -------------------------------------------------------------------


def template_workbook(*, operation: Operation) -> bytes:
    """The operation's sheet in the reader's language: labelled columns, drop-down lists
    of labels that refuse anything else, the codes in a hidden sheet, an id on every row."""
    workbook = Workbook()
    sheet = _template_sheet(workbook)
    ranges = _lists_sheet(workbook)
    _add_drop_downs(sheet, columns=COLUMNS, ranges=ranges)
    _help_sheet(workbook, operation=operation)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def _sheet_title() -> str:
    # A sheet's title may not hold these characters, nor be longer than 31.
    return "".join(c for c in str(SHEET_TITLE) if c not in "[]:*?/\\")[:31] or "Seizures"


def _template_sheet(workbook: Workbook):
    sheet = workbook.active
    sheet.title = _sheet_title()
    sheet.append([column_label(column) for column in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    # Every row the officer will type carries its id already: the same row keeps it
    # however often the sheet is uploaded, sorted or added to.
    id_column = len(COLUMNS)
    for row in range(2, TEMPLATE_ROWS + 2):
        sheet.cell(row=row, column=id_column, value=str(uuid.uuid4()))
    for index, column in enumerate(COLUMNS, start=1):
        width = max(14, len(column_label(column)) + 4, 38 if column == "client_uuid" else 0)
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    sheet.sheet_view.rightToLeft = translation.get_language_bidi()
    return sheet


def _drop_down_lists(columns: list[str]) -> dict[str, str]:
    """Each column with a drop-down list, to the name of its list (the three country
    columns share one)."""
    lists = {}
    for column in columns:
        if column in VOCABULARIES:
            lists[column] = column
        elif column in COUNTRY_COLUMNS:
            lists[column] = "countries"
        elif column == "currency":
            lists[column] = "currencies"
    return lists


def _lists_sheet(workbook: Workbook) -> dict[str, str]:
    """A hidden sheet of the allowed values, two columns per list: the labels the
    drop-downs offer, and beside each its code. Returns each list's range of labels.
    Written row by row, so that a write-only workbook (the export) takes it too."""
    lists = workbook.create_sheet("Lists")
    lists.sheet_state = "hidden"
    columns: list[list[str]] = []
    ranges = {}
    for column, list_name in _drop_down_lists(COLUMNS).items():
        if list_name in ranges:
            continue
        values = choices_of(column)
        letter = get_column_letter(len(columns) + 1)
        columns.append([list_name, *(label for _code, label in values)])
        columns.append(["code", *(code for code, _label in values)])
        ranges[list_name] = f"Lists!${letter}$2:${letter}${len(values) + 1}"
    for row in itertools.zip_longest(*columns):
        lists.append(row)
    return ranges


def _add_drop_downs(sheet, *, columns: list[str], ranges: dict[str, str]) -> None:
    for column, list_name in _drop_down_lists(columns).items():
        letter = get_column_letter(columns.index(column) + 1)
        validation = DataValidation(
            type="list",
            formula1=ranges[list_name],
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="stop",
            showInputMessage=True,
        )
        # Excel keeps titles to 32 characters and messages to 255.
        validation.errorTitle = column_label(column)[:32]
        validation.error = _("Choose a value from the list.")[:255]
        validation.promptTitle = column_label(column)[:32]
        validation.prompt = _("Choose from the drop-down list.")[:255]
        validation.add(f"{letter}2:{letter}{settings.SPREADSHEET_MAX_ROWS + 1}")
        sheet.data_validations.append(validation)  # a write-only sheet has no add_…


def _help_sheet(workbook: Workbook, *, operation: Operation) -> None:
    help_sheet = workbook.create_sheet(_("Help")[:31])
    help_sheet.sheet_view.rightToLeft = translation.get_language_bidi()
    help_sheet.append([_("Operation"), operation.code, operation.name])
    help_sheet.append(
        [_("Period"), operation.planned_start.isoformat(), operation.planned_end.isoformat()]
    )
    help_sheet.append(
        [
            _(
                "The lists show the values in your language. A sheet filled in any of the "
                "platform's languages, or with the codes, imports all the same."
            )
        ]
    )
    help_sheet.append([])
    help_sheet.append([_("Column"), _("Code"), _("What to write")])
    explanations = {
        "client_uuid": _(
            "The row's identifier, filled in: leave it as it is, and keep it with its row. "
            "It lets you upload the same sheet again after adding or correcting rows. "
            "Rows past the filled ones may stay empty: they are recognised by their "
            "content, and the export gives every seizure its identifier."
        ),
        "seizure_date": _("Date of seizure, YYYY-MM-DD."),
        "transit_countries": _("ISO codes separated by commas, for example ES, PT."),
        "quantity": _("A number greater than zero, with a dot or a comma for decimals."),
        "offenders_count": _("A whole number. No names: the form holds no personal data."),
    }
    drop_downs = _drop_down_lists(COLUMNS)
    for column in COLUMNS:
        explanation = explanations.get(column) or (
            _("Choose from the drop-down list.") if column in drop_downs else ""
        )
        help_sheet.append([column_label(column), column, explanation])
    for letter, width in (("A", 28), ("B", 22), ("C", 90)):
        help_sheet.column_dimensions[letter].width = width


# ---- reading ----------------------------------------------------------------------


def _check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SpreadsheetError(_("The file is not a readable .xlsx workbook.")) from None
    members = archive.infolist()
    if len(members) > MAX_MEMBERS:
        raise SpreadsheetError(_("The workbook holds too many parts to be a seizure sheet."))
    if sum(member.file_size for member in members) > MAX_UNPACKED:
        raise SpreadsheetError(_("The workbook unpacks to more than the allowed size."))
    for member in members:
        if member.file_size > 1024 * 1024 and member.file_size > MAX_RATIO * max(
            member.compress_size, 1
        ):
            raise SpreadsheetError(
                _("The workbook is compressed suspiciously well: it is refused.")
            )


def _cell(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _too_many_rows() -> SpreadsheetError:
    return SpreadsheetError(
        _("The file has more than %(max)d rows, blank rows included.")
        % {"max": settings.SPREADSHEET_MAX_ROWS}
    )


def _rows_within_limits(records, *, convert, deadline: Deadline) -> list[tuple[int, list[str]]]:
    """The rows that are not blank, each with its number in the file.

    Every row counts against the limit, blank ones too: skipping them first would let a
    file of empty rows run for hours. Only the columns up to the header's last name are
    converted: cells under no name are never imported.
    """
    most = settings.SPREADSHEET_MAX_ROWS + 1  # the header is one of them
    rows = []
    width = MAX_COLUMNS
    for number, record in enumerate(records, start=1):
        if number > most:
            raise _too_many_rows()
        deadline.check()
        row = [convert(value) for value in record[:width]]
        if not any(row):
            continue
        if not rows:
            width = max(index for index, value in enumerate(row) if value) + 1
            row = row[:width]
        rows.append((number, row))
    return rows


def _check_declared_size(sheet) -> None:
    """Refuse what the sheet's own <dimension> says before reading a row of it (the
    element may be missing or lie: the limits are enforced while reading as well)."""
    if sheet.max_row is not None and sheet.max_row > settings.SPREADSHEET_MAX_ROWS + 1:
        raise SpreadsheetError(
            _(
                "The sheet says it reaches row %(row)d: a file may have at most %(max)d rows "
                "below the header, blank rows included."
            )
            % {"row": sheet.max_row, "max": settings.SPREADSHEET_MAX_ROWS}
        )
    if sheet.max_column is not None and sheet.max_column > MAX_COLUMNS:
        raise SpreadsheetError(
            _(
                "The sheet says it reaches column %(column)s: a seizure sheet has at most "
                "%(max)d columns."
            )
            % {"column": get_column_letter(sheet.max_column), "max": MAX_COLUMNS}
        )


def _seizure_sheet(workbook):
    """The sheet titled as the template's in any language, else the first."""
    for title in workbook.sheetnames:
        if fold(title) in sheet_titles():
            return workbook[title]
    return workbook.worksheets[0]


def _xlsx_rows(data: bytes, *, deadline: Deadline) -> list[tuple[int, list[str]]]:
    _check_zip(data)
    try:
        workbook = load_workbook(_DeadlineStream(data, deadline), read_only=True, data_only=True)
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError(_("The file is not a readable .xlsx workbook.")) from None
    try:
        sheet = _seizure_sheet(workbook)
        _check_declared_size(sheet)
        # Our own bounds, not the declared ones: one row past the limit is enough to refuse.
        records = sheet.iter_rows(
            max_row=settings.SPREADSHEET_MAX_ROWS + 2, max_col=MAX_COLUMNS, values_only=True
        )
        return _rows_within_limits(records, convert=_cell, deadline=deadline)
    except SpreadsheetError:
        raise
    except Exception:
        raise SpreadsheetError(_("The file is not a readable .xlsx workbook.")) from None
    finally:
        workbook.close()


def _csv_records(text: str, *, delimiter: str):
    """The CSV records; one the reader cannot take is refused by its row number."""
    number = 1
    try:
        for record in csv.reader(io.StringIO(text), delimiter=delimiter):
            yield record
            number += 1
    except csv.Error as error:
        if str(error).startswith("field larger than field limit"):
            raise SpreadsheetError(
                _(
                    "Row %(row)d holds a cell longer than %(max)d characters: "
                    "the file cannot be read."
                )
                % {"row": number, "max": csv.field_size_limit()}
            ) from None
        raise SpreadsheetError(_("Row %(row)d cannot be read as CSV.") % {"row": number}) from None


def _csv_rows(data: bytes, *, deadline: Deadline) -> list[tuple[int, list[str]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise SpreadsheetError(_("A CSV file must be written in UTF-8.")) from None
    if "\x00" in text:
        raise SpreadsheetError(_("The file is neither a CSV file nor an .xlsx workbook."))
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return _rows_within_limits(
        _csv_records(text, delimiter=delimiter), convert=str.strip, deadline=deadline
    )


def _header(cells: list[str]) -> list[str]:
    """The column each header cell names ("" under a blank one). Labels in any of the
    platform's languages are read, and the codes; anything else refuses the file."""
    header = [(header_name(cell) or "") if cell.strip() else "" for cell in cells]
    known = set(COLUMNS) | set(EXPORT_ONLY_COLUMNS)
    unknown = [
        cell.strip()
        for cell, name in zip(cells, header, strict=True)
        if cell.strip() and name not in known
    ]
    named = [name for name in header if name]
    twice = sorted({column_label(name) for name in named if named.count(name) > 1})
    missing = [column_label(name) for name in COLUMNS if name in REQUIRED_COLUMNS - set(header)]
    if unknown or missing or twice:
        problems = []
        if missing:
            problems.append(_("missing columns: %(columns)s") % {"columns": ", ".join(missing)})
        if unknown:
            problems.append(
                _("unknown columns: %(columns)s") % {"columns": ", ".join(unknown[:10])}
            )
        if twice:
            problems.append(_("columns named twice: %(columns)s") % {"columns": ", ".join(twice)})
        raise SpreadsheetError(
            _("The header row does not match the template (%(problems)s).")
            % {"problems": "; ".join(problems)}
        )
    return header


def read_spreadsheet(data: bytes, *, deadline: Deadline | None = None) -> list[tuple[int, dict]]:
    """Rows of a .xlsx or .csv file (recognised by content) as dicts keyed by column,
    each with its row number in the file; blank rows are left out."""
    deadline = deadline or Deadline()
    if len(data) > settings.SPREADSHEET_MAX_BYTES:
        raise SpreadsheetError(
            _("The file is larger than %(mb)d MB.")
            % {"mb": settings.SPREADSHEET_MAX_BYTES // (1024 * 1024)}
        )
    if not data.strip():
        raise SpreadsheetError(_("The file is empty."))
    read = _xlsx_rows if data[:4] == b"PK\x03\x04" else _csv_rows
    rows = read(data, deadline=deadline)
    if not rows:
        raise SpreadsheetError(_("The file is empty."))
    header = _header(rows[0][1])
    columns = [(index, name) for index, name in enumerate(header) if name and name in COLUMNS]
    result = []
    for number, row in rows[1:]:
        values = {name: (row[index] if index < len(row) else "") for index, name in columns}
        # A template row with nothing but its ready-made id is a blank row.
        if any(value for name, value in values.items() if name != "client_uuid"):
            result.append((number, values))
    return result


# ---- importing --------------------------------------------------------------------


def content_key(values: dict) -> tuple:
    """What a seizure says, compared loosely (case, spaces, 1.50 and 1.5 are the same):
    a row without an id is the seizure of the same administration that says the same."""

    def loose(value):
        if value is None:
            return ""
        if isinstance(value, Decimal):
            return value.normalize()
        if isinstance(value, str):
            return " ".join(value.split()).casefold()
        if isinstance(value, list | tuple):
            return tuple(sorted(loose(item) for item in value))
        return value

    return tuple(loose(values.get(name)) for name in FIELDS)


@dataclass
class _Row:
    number: int
    data: dict  # as read, for the correction service
    cleaned: dict
    client_uuid: uuid.UUID | None


def seizures_import(*, reporter, operation: Operation, data: bytes) -> ImportReport:
    """Import every row or none; the report names each bad row, column and reason.

    Who may import is checked first (a member who reports, the operation active), then
    the file, then the rows; the checks are made again under lock when storing. Rows are
    matched to the seizures already imported under the group's lock, so two uploads of
    the same sheet at once store its seizures once.
    """
    check_may_import(user=reporter, operation=operation)
    administration = getattr(getattr(reporter, "profile", None), "administration", None)
    if administration is None:
        raise Forbidden(_("Your account has no administration: ask a coordinator to set it."))
    deadline = Deadline()
    rows = read_spreadsheet(data, deadline=deadline)
    if not rows:
        raise SpreadsheetError(
            _("The file has no seizures: there is nothing below its header to import.")
        )
    report = ImportReport(rows=len(rows))
    parsed = _parse_rows(rows, operation=operation, report=report, deadline=deadline)
    if report.errors:
        report.errors.sort()
        return report
    deadline.check()
    with transaction.atomic():
        # The group's lock, taken by every report into it: the seizures read below stay
        # the ones there until this import commits.
        seqs_take({operation.group_id: 0})
        fresh, amended = _match(
            rows=parsed,
            reporter=reporter,
            operation=operation,
            administration=administration,
            report=report,
        )
        if report.errors:
            report.errors.sort()
            transaction.set_rollback(True)
            return report
        deadline.check()
        _store(
            fresh=fresh,
            amended=amended,
            reporter=reporter,
            operation=operation,
            administration=administration,
        )
    report.created = len(fresh)
    report.updated = len(amended)
    report.already_there = len(parsed) - len(fresh) - len(amended)
    return report


def _parse_rows(
    rows: list[tuple[int, dict]], *, operation: Operation, report: ImportReport, deadline: Deadline
) -> list[_Row]:
    """Each row with its id and its values cleaned by the form's rules; a bad row's
    errors go to the report instead."""
    parsed: list[_Row] = []
    seen: dict[uuid.UUID, int] = {}
    for number, row in rows:  # numbered as the user sees them: the header is row 1
        deadline.check()
        client_uuid, problem = _row_id(row.pop("client_uuid", "").strip(), seen=seen)
        if problem:
            report.errors.append((number, "client_uuid", problem))
            continue
        if client_uuid is not None:
            seen[client_uuid] = number
        # Labels of the drop-down lists, in whichever language, become their codes.
        row = to_codes(row)
        try:
            cleaned = clean_seizure_input(row, operation=operation)
        except ValidationError as error:
            report.errors.extend(
                (number, column, problem) for column, problem in _row_problems(error, row)
            )
            continue
        parsed.append(_Row(number=number, data=row, cleaned=cleaned, client_uuid=client_uuid))
    return parsed


def _row_problems(error: ValidationError, row: dict) -> list[tuple[str, str]]:
    """The rules' errors by column; a value that is not in its list is told the list."""
    problems = []
    for column, messages in error.message_dict.items():
        problem = " ".join(messages)
        if (
            column in CHOICES
            and row.get(column)
            and fold(row[column]) not in {fold(code) for code, _label in choices_of(column)}
        ):
            problem += " " + _("Choose one of: %(values)s.") % {
                "values": ", ".join(label for _code, label in choices_of(column))
            }
        problems.append((column if column != "__all__" else "", problem))
    return problems


def _row_id(text: str, *, seen: dict[uuid.UUID, int]) -> tuple[uuid.UUID | None, str]:
    """A row's id (None when it has none), or why it cannot be one; ``seen`` maps the
    ids of earlier rows to their numbers."""
    if not text:
        return None, ""
    try:
        client_uuid = uuid.UUID(text)
    except ValueError:
        return None, _("client_uuid must be a UUID made by the client.")
    if client_uuid in seen:
        return None, _("The same client_uuid is on row %(row)d.") % {"row": seen[client_uuid]}
    return client_uuid, ""


def _store(
    *, fresh: list[_Row], amended: list[tuple[_Row, Seizure]], reporter, operation, administration
) -> None:
    for row, seizure in amended:
        seizure_amend(seizure=seizure, reporter=reporter, data=row.data)
    if fresh:
        seizures_report_many(
            reporter=reporter,
            operation=operation,
            administration=administration,
            rows=[(row.client_uuid or uuid.uuid4(), row.cleaned) for row in fresh],
        )


def _match(*, rows: list[_Row], reporter, operation, administration, report: ImportReport):
    """Sort the rows into new seizures and corrections; the rest are already imported.

    A row with an id is its seizure; a row without one takes an unclaimed seizure of the
    reporter's administration that says the same, one seizure per row (two identical
    rows are two seizures when there are two).
    """
    by_id = {
        seizure.client_uuid: seizure
        for seizure in Seizure.objects.filter(
            client_uuid__in=[row.client_uuid for row in rows if row.client_uuid]
        )
    }
    fresh, amended = _match_by_id(
        [row for row in rows if row.client_uuid is not None],
        by_id=by_id,
        reporter=reporter,
        operation=operation,
        administration=administration,
        report=report,
    )
    without_id = [row for row in rows if row.client_uuid is None]
    if without_id:
        fresh += _match_by_content(
            without_id,
            claimed={seizure.pk for seizure in by_id.values()},
            operation=operation,
            administration=administration,
            report=report,
        )
    return fresh, amended


def _match_by_id(
    rows: list[_Row],
    *,
    by_id: dict[uuid.UUID, Seizure],
    reporter,
    operation,
    administration,
    report: ImportReport,
) -> tuple[list[_Row], list[tuple[_Row, Seizure]]]:
    fresh: list[_Row] = []
    amended: list[tuple[_Row, Seizure]] = []
    for row in rows:
        seizure = by_id.get(row.client_uuid)
        if seizure is None:
            fresh.append(row)
        elif (
            seizure.operation_id != operation.pk
            or seizure.reporting_administration_id != administration.pk
        ):
            report.errors.append(
                (row.number, "client_uuid", _("This client_uuid was already used."))
            )
        elif content_key(row.cleaned) == content_key(_values(seizure)):
            pass  # already imported, unchanged
        elif seizure.status != Seizure.Status.SUBMITTED:
            report.errors.append((row.number, "", seizure_locked_reason(seizure)))
        elif seizure.reported_by_id != reporter.pk:
            report.errors.append(
                (row.number, "", _("Only the officer who reported a seizure may correct it."))
            )
        else:
            amended.append((row, seizure))
    return fresh, amended


def _match_by_content(
    rows: list[_Row], *, claimed: set[int], operation, administration, report: ImportReport
) -> list[_Row]:
    """The rows without an id that no unclaimed seizure says the same as: new ones.
    Each row gets a warning either way."""
    unclaimed: dict[tuple, int] = {}
    candidates = Seizure.objects.filter(
        operation=operation, reporting_administration=administration
    ).values("pk", *FIELDS)
    for values in candidates.iterator(chunk_size=5000):
        if values["pk"] not in claimed:
            key = content_key(values)
            unclaimed[key] = unclaimed.get(key, 0) + 1
    fresh = []
    for row in rows:
        key = content_key(row.cleaned)
        if unclaimed.get(key):
            unclaimed[key] -= 1
            message = _(
                "No id on this row: it was recognised by its content as a seizure already imported."
            )
        else:
            fresh.append(row)
            message = _(
                "No id on this row: it was imported as a new seizure. Keep the ids of the "
                "template, or use the export, so that a row corrected later is recognised."
            )
        report.warnings.append((row.number, "client_uuid", message))
    return fresh


def _values(seizure: Seizure) -> dict:
    return {name: getattr(seizure, name) for name in FIELDS}


@transaction.atomic
def seizures_report_many(
    *, reporter, operation: Operation, administration, rows: list[tuple[uuid.UUID, dict]]
) -> None:
    """Report many new seizures at once (cleaned rows with their ids): one message and
    one ``seizure.reported`` event each, written together, the same checks as one report."""
    group = operation.group
    [(_group_id, head, _status)] = seqs_take({group.pk: len(rows)})
    seqs = range(head - len(rows) + 1, head + 1)
    check_may_post(group=group, author=reporter)
    check_accepts_seizures(operation)
    now = timezone.now()
    handling = operation_handling(operation)  # an imported seizure carries the default
    messages = _seizure_messages(
        group=group, reporter=reporter, seqs=seqs, rows=rows, handling=handling
    )
    bulk_insert(messages)  # their pks set: the seizures refer to them
    messages = {message.seq: message for message in messages}
    seizures = [
        Seizure(
            operation=operation,
            client_uuid=client_uuid,
            reported_by=reporter,
            reporting_administration=administration,
            message=messages[seq],
            handling_code=handling.code,
            handling_conditions=handling.conditions,
            **cleaned,
        )
        for seq, (client_uuid, cleaned) in zip(seqs, rows, strict=True)
    ]
    events = []
    for seq, seizure in zip(seqs, seizures, strict=True):
        message = messages[seq]
        message.created_at = message.created_at or now
        events.append(
            event_new(
                group=group,
                seq=seq,
                type=EventType.SEIZURE_REPORTED,
                data={**message_data(message, author=reporter), "seizure": seizure.as_card()},
            )
        )
    # One frame rings the doorbell; sockets see the jump in seq and read the rest of
    # the import from the database, in order, like any other gap.
    events_append(events, seizures, announce_last_only=True)
    seizures_search_index(seizures)
    audit_record(
        actor=reporter,
        action=Action.SEIZURES_IMPORTED,
        group=group,
        target=operation.code,
        data={"rows": len(rows)},
    )


def _seizure_messages(
    *, group, reporter, seqs: range, rows: list[tuple[uuid.UUID, dict]], handling=None
):
    """The group's message of each new seizure, not saved yet."""
    return [
        seizure_message(
            group=group,
            seq=seq,
            reporter=reporter,
            client_uuid=client_uuid,
            cleaned=cleaned,
            handling=handling,
        )
        for seq, (client_uuid, cleaned) in zip(seqs, rows, strict=True)
    ]


# ---- exporting --------------------------------------------------------------------


def _neutral(value) -> str:
    """A spreadsheet must not run what an officer typed: formulas become text."""
    text = "" if value is None else (", ".join(value) if isinstance(value, list) else str(value))
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export_rows(*, operation: Operation, labels: bool = False):
    """The header, then one row per seizure, its id last. With ``labels``, as people
    read them: the columns and the values of the lists in the reader's language;
    without, the codes (for other programs)."""
    named = _export_labels() if labels else {}
    yield [column_label(column) if labels else column for column in EXPORT_COLUMNS]
    # What leaves the operation leaves out unreleased H2 seizures (core/handling.py).
    queryset = (
        seizures_leaving_group(Seizure.objects.filter(operation=operation))
        .select_related("reporting_administration")
        .order_by("created_at")
    )
    for seizure in queryset.iterator(chunk_size=2000):
        values = {
            "handling_code": ": ".join(
                filter(None, (seizure.handling_code, seizure.handling_conditions))
            ),
            "client_uuid": seizure.client_uuid,
            "status": seizure.status,
            "rejection_reason": seizure.rejection_reason,
            "reporting_administration": seizure.reporting_administration.country,
            **{name: getattr(seizure, name) for name in FIELDS},
        }
        yield [
            _neutral(named[column].get(values[column], values[column]))
            if column in named
            else _neutral(values[column])
            for column in EXPORT_COLUMNS
        ]


def _export_labels() -> dict[str, dict[str, str]]:
    """Code to label, in the current language, for each column that has a list."""
    named = {column: dict(choices_of(column)) for column in _drop_down_lists(EXPORT_COLUMNS)}
    named["status"] = {value: str(label) for value, label in Seizure.Status.choices}
    return named


def export_csv(*, operation: Operation, actor) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output)
    for row in export_rows(operation=operation):
        writer.writerow(row)
    audit_record(
        actor=actor,
        action=Action.SEIZURES_EXPORTED,
        group=operation.group,
        target=operation.code,
        data={"format": "csv"},
    )
    return ("\ufeff" + output.getvalue()).encode("utf-8")


def export_xlsx(*, operation: Operation, actor) -> bytes:
    """The operation's seizures as the template has them, in the reader's language, with
    its drop-down lists: an officer continues the export and uploads it again."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title())
    sheet.sheet_view.rightToLeft = translation.get_language_bidi()
    sheet.freeze_panes = "A2"
    for index, column in enumerate(EXPORT_COLUMNS, start=1):
        width = max(14, len(column_label(column)) + 4, 38 if column == "client_uuid" else 0)
        sheet.column_dimensions[get_column_letter(index)].width = width
    ranges = _lists_sheet(workbook)
    _add_drop_downs(sheet, columns=EXPORT_COLUMNS, ranges=ranges)
    for row in export_rows(operation=operation, labels=True):
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    audit_record(
        actor=actor,
        action=Action.SEIZURES_EXPORTED,
        group=operation.group,
        target=operation.code,
        data={"format": "xlsx"},
    )
    return output.getvalue()


def check_may_import(*, user, operation: Operation) -> None:
    check_may_post(group=operation.group, author=user)
    # The status as it is now, not as the caller's copy of the operation says.
    status = Operation.objects.values_list("status", flat=True).get(pk=operation.pk)
    if status != Operation.Status.ACTIVE:
        raise Forbidden(_("Seizures are imported while the operation is active."))
