import csv
import io
import re
import time
import uuid
import zipfile
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import PermissionDenied
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from openpyxl import Workbook, load_workbook

from groups.access import GroupNotFound
from groups.models import GroupEvent
from messaging.models import Message
from operations.models import Operation, Seizure
from operations.services import operation_set_status, seizure_reject, seizure_validate
from operations.spreadsheet_labels import column_label, header_name
from operations.spreadsheets import (
    COLUMNS,
    Deadline,
    SpreadsheetError,
    _DeadlineStream,
    read_spreadsheet,
    seizures_import,
    template_workbook,
)
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


def counts():
    return Seizure.objects.count(), Message.objects.count(), GroupEvent.objects.count()


def workbook_bytes(rows: list[dict], header=COLUMNS) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Seizures"
    sheet.append(header)
    for row in rows:
        sheet.append(
            [", ".join(row[c]) if isinstance(row.get(c), list) else row.get(c, "") for c in header]
        )
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def csv_bytes(rows: list[dict], delimiter=";") -> bytes:
    output = io.StringIO()
    writer = csv.writer(output, delimiter=delimiter)
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow(
            [", ".join(row[c]) if isinstance(row.get(c), list) else row.get(c, "") for c in COLUMNS]
        )
    return ("\ufeff" + output.getvalue()).encode()


def test_the_template_has_the_columns_and_drop_down_lists(active_world):
    workbook = load_workbook(io.BytesIO(template_workbook(operation=active_world.operation)))
    sheet = workbook["Seizures"]
    assert [cell.value for cell in sheet[1]] == [column_label(name) for name in COLUMNS]
    validated = {str(v.sqref).split(":")[0][:-1] for v in sheet.data_validations.dataValidation}
    letters = {column: chr(ord("A") + index) for index, column in enumerate(COLUMNS)}
    for column in (
        "commodity_category",
        "unit",
        "transport_mode",
        "reporting_country",
        "currency",
        "direction",
    ):
        assert letters[column] in validated, column
    assert workbook["Lists"].sheet_state == "hidden"


def test_a_filled_template_imports_every_row(active_world):
    world = active_world
    rows = [seizure_data(commodity_description=f"row {n}") for n in range(5)]
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=workbook_bytes(rows)
    )
    assert report.ok and report.created == 5
    assert (
        Seizure.objects.filter(operation=world.operation, reported_by=world.officer_fr).count() == 5
    )
    assert GroupEvent.objects.filter(group=world.group, type="seizure.reported").count() == 5
    seqs = list(
        GroupEvent.objects.filter(group=world.group).order_by("seq").values_list("seq", flat=True)
    )
    assert seqs == list(range(1, len(seqs) + 1))


def test_csv_with_semicolons_and_a_bom_imports(active_world):
    world = active_world
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=csv_bytes([seizure_data()])
    )
    assert report.ok and report.created == 1


def test_one_bad_row_stores_nothing_and_names_row_column_and_reason(active_world):
    world = active_world
    before = counts()
    rows = [
        seizure_data(),
        seizure_data(quantity="-2"),
        seizure_data(),
        seizure_data(unit="bushel"),
    ]
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=workbook_bytes(rows)
    )
    assert not report.ok
    assert [(row, column) for row, column, _reason in report.errors] == [
        (3, "quantity"),
        (5, "unit"),
    ]
    assert "more than zero" in report.errors[0][2]
    assert counts() == before


def test_blank_rows_are_skipped_and_rows_keep_their_numbers_in_the_file(active_world):
    world = active_world
    good = csv_bytes([seizure_data()]).decode()
    header, row = good.rstrip("\r\n").split("\r\n")
    bad = csv_bytes([seizure_data(unit="bushel")]).decode().rstrip("\r\n").split("\r\n")[1]
    blank = ";" * (len(COLUMNS) - 1)
    data = "\r\n".join([header, row, "", blank, bad, ""]).encode()
    report = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    # The bad row is the file's fifth line, whatever blank lines came before it.
    assert [(number, column) for number, column, _reason in report.errors] == [(5, "unit")]


def test_the_row_limit_counts_every_row_blank_ones_too(active_world, settings):
    world = active_world
    settings.SPREADSHEET_MAX_ROWS = 3
    rows = [seizure_data(), seizure_data()]
    before = counts()
    # Blank lines count: a file of empty rows is work to read all the same.
    for padded in (csv_bytes(rows) + b"\r\n" * 2, csv_bytes(rows * 2)):
        with pytest.raises(SpreadsheetError, match="more than 3 rows, blank rows included"):
            seizures_import(reporter=world.officer_fr, operation=world.operation, data=padded)
    assert counts() == before
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=csv_bytes(rows) + b"\r\n"
    )
    assert report.ok and report.created == 2


@pytest.mark.parametrize("who", ["observer", "outsider"])
def test_who_may_not_report_is_refused_before_the_file_is_read(active_world, who):
    world = active_world
    before = counts()
    with pytest.raises((PermissionDenied, GroupNotFound)):
        # Not even a spreadsheet: refused on who they are, not on the file.
        seizures_import(reporter=getattr(world, who), operation=world.operation, data=b"\x00")
    assert counts() == before


def test_an_account_without_administration_is_refused_before_the_rows(active_world):
    world = active_world
    world.officer_fr.profile.administration = None
    world.officer_fr.profile.save()
    with pytest.raises(PermissionDenied, match="no administration"):
        seizures_import(
            reporter=world.officer_fr,
            operation=world.operation,
            data=csv_bytes([seizure_data(quantity="-1")]),
        )


def test_the_same_file_twice_stores_nothing_new(active_world):
    world = active_world
    data = workbook_bytes([seizure_data(), seizure_data(place="Other port")])
    first = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    second = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    assert (first.created, second.created, second.already_there) == (2, 0, 2)
    assert Seizure.objects.count() == 2


def test_explicit_uuids_are_idempotent_and_duplicates_in_a_file_are_refused(active_world):
    world = active_world
    same = new_uuid()
    rows = [{**seizure_data(), "client_uuid": same}, {**seizure_data(), "client_uuid": same}]
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=workbook_bytes(rows)
    )
    assert [(row, column) for row, column, _ in report.errors] == [(3, "client_uuid")]


def zip_bomb() -> bytes:
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", "<a>" + "0" * (150 * 1024 * 1024) + "</a>")
    return output.getvalue()


def billion_laughs() -> bytes:
    good = io.BytesIO(workbook_bytes([seizure_data()]))
    output = io.BytesIO()
    with (
        zipfile.ZipFile(good) as source,
        zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb"^<\?xml[^>]*\?>", b"", content)
                content = (
                    b'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY lol "lol">'
                    b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
                    b'<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
                    + body.replace(b"<t>", b"<t>&lol3;", 1)
                )
            target.writestr(item, content)
    return output.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (zip_bomb, "compressed suspiciously well"),
        (billion_laughs, "not a readable .xlsx"),
        (lambda: b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "UTF-8"),
        (lambda: b"PK\x03\x04broken", "not a readable .xlsx"),
        (lambda: b"", "empty"),
        (lambda: b"date,place\n2026-01-01,x\n", "does not match the template"),
    ],
)
def test_hostile_or_broken_files_are_refused_before_any_write(active_world, make, message):
    before = counts()
    with pytest.raises(SpreadsheetError) as error:
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=make()
        )
    assert message in " ".join(error.value.messages)
    assert counts() == before


def test_too_many_members_are_refused():
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w") as archive:
        for number in range(250):
            archive.writestr(f"part{number}.xml", "x")
    with pytest.raises(SpreadsheetError):
        read_spreadsheet(output.getvalue())


def rewritten_sheet(*, dimension: str | None, row: int = 2, cell_at_xfd=False, blank_rows=0):
    """A valid one-seizure workbook whose sheet XML is rewritten: the <dimension> it
    declares (or none), the row its seizure stands on, a cell at the last column, and
    empty <row> elements before it."""
    source = zipfile.ZipFile(io.BytesIO(workbook_bytes([seizure_data()])))
    output = io.BytesIO()
    with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            content = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                declared = f'<dimension ref="{dimension}"/>'.encode() if dimension else b""
                content = re.sub(rb'<dimension ref="[^"]*" ?/>', declared, content, count=1)
                content = re.sub(rb'(<c r="[A-Z]+)2"', rb'\g<1>%d"' % row, content)
                if cell_at_xfd:
                    content = content.replace(
                        b"</row></sheetData>",
                        b'<c r="XFD%d" t="inlineStr"><is><t>x</t></is></c></row></sheetData>' % row,
                    )
                blanks = b"".join(b'<row r="%d"/>' % number for number in range(2, 2 + blank_rows))
                content = content.replace(b'<row r="2"', blanks + b'<row r="%d"' % row)
                assert (declared in content) and (b'<row r="%d"' % row in content)
            target.writestr(item, content)
    return output.getvalue()


@pytest.mark.parametrize(
    ("dimension", "cell_at_xfd", "reason"),
    [
        ("A1:XFD8000", False, "reaches column XFD: a seizure sheet has at most 42 columns"),
        ("A1:XFD8000", True, "reaches column XFD"),
        ("A1:XFD100000000", True, "reaches row 100000000"),
        ("A1:U100000000", False, "reaches row 100000000: a file may have at most 50000 rows"),
    ],
)
def test_a_sheet_declaring_more_than_the_limits_is_refused_before_reading(
    active_world, dimension, cell_at_xfd, reason
):
    world = active_world
    # The same sheet, honestly declared, imports: only the declaration is refused.
    honest = rewritten_sheet(dimension="A1:U8000", row=8000)
    assert seizures_import(reporter=world.officer_fr, operation=world.operation, data=honest).ok
    before = counts()
    data = rewritten_sheet(dimension=dimension, row=8000, cell_at_xfd=cell_at_xfd)
    assert len(data) < 12 * 1024
    with pytest.raises(SpreadsheetError) as error:
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=data
        )
    assert reason in " ".join(error.value.messages)
    assert counts() == before


@pytest.mark.parametrize(
    "make",
    [
        # No <dimension> at all: 60,000 empty rows, then a seizure.
        lambda: rewritten_sheet(dimension=None, row=60_002, blank_rows=60_000),
        # A <dimension> that lies small, a seizure far below it.
        lambda: rewritten_sheet(dimension="A1:U2", row=60_002),
        # Rows left out of the XML are blank rows all the same.
        lambda: rewritten_sheet(dimension=None, row=100_000_000),
    ],
)
def test_rows_past_the_limit_are_counted_while_reading_blank_ones_too(active_world, make):
    before = counts()
    with pytest.raises(SpreadsheetError, match="more than 50000 rows, blank rows included"):
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=make()
        )
    assert counts() == before


def test_a_csv_field_over_the_reader_limit_is_refused_by_its_row(active_world):
    before = counts()
    data = csv_bytes([seizure_data(), seizure_data(place="x" * 200_000)])
    with pytest.raises(SpreadsheetError) as error:
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=data
        )
    assert error.value.messages == [
        f"Row 3 holds a cell longer than {csv.field_size_limit()} characters: "
        "the file cannot be read."
    ]
    assert counts() == before


def test_a_csv_of_blank_lines_past_the_limit_is_refused(active_world):
    before = counts()
    data = csv_bytes([]) + b";\r\n" * 60_000 + csv_bytes([seizure_data()]).split(b"\r\n", 1)[1]
    with pytest.raises(SpreadsheetError, match="more than 50000 rows, blank rows included"):
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=data
        )
    assert counts() == before


@pytest.mark.parametrize(
    "make",
    [lambda: workbook_bytes([seizure_data()]), lambda: csv_bytes([seizure_data()])],
)
def test_an_import_past_its_time_is_stopped_and_stores_nothing(active_world, settings, make):
    settings.SPREADSHEET_MAX_SECONDS = 0  # already over: the outcome, not a stopwatch
    before = counts()
    with pytest.raises(SpreadsheetError, match="took more than 0 seconds: nothing was imported"):
        seizures_import(
            reporter=active_world.officer_fr, operation=active_world.operation, data=make()
        )
    assert counts() == before


def test_the_time_cap_reaches_into_openpyxls_own_parsing():
    # Checked on each chunk the zip module reads, so a workbook that is slow to parse
    # (shared strings, one endless row) is stopped inside openpyxl, not after it.
    data = workbook_bytes([seizure_data()])
    with pytest.raises(SpreadsheetError, match="took more than 0 seconds"):
        load_workbook(_DeadlineStream(data, Deadline(0)), read_only=True)


def test_the_upload_page_shows_the_limits_as_errors_in_the_users_language(client, active_world):
    world = active_world
    url = reverse("operations:seizures_import", kwargs={"code": world.operation.code})
    sign_in(client, world.officer_fr)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    before = counts()
    files = {
        "wide.xlsx": (
            rewritten_sheet(dimension="A1:XFD100000000", row=8000, cell_at_xfd=True),
            "La feuille indique qu’elle va jusqu’à la ligne 100000000",
        ),
        "long.xlsx": (
            rewritten_sheet(dimension=None, row=60_002, blank_rows=60_000),
            "Le fichier compte plus de 50000 lignes, lignes vides comprises.",
        ),
        "field.csv": (
            csv_bytes([seizure_data(place="x" * 200_000)]),
            f"La ligne 2 contient une cellule de plus de {csv.field_size_limit()} caractères",
        ),
    }
    for name, (data, reason) in files.items():
        upload = io.BytesIO(data)
        upload.name = name
        page = client.post(url, {"file": upload})
        assert page.status_code == 400, name
        assert reason in page.content.decode(), name
    assert counts() == before


def test_the_import_command_reports_the_limits(active_world, tmp_path):
    world = active_world
    hostile = tmp_path / "hostile.xlsx"
    hostile.write_bytes(rewritten_sheet(dimension="A1:XFD8000", row=8000))
    with pytest.raises(CommandError, match="reaches column XFD"):
        call_command("import_seizures", world.operation.code, str(hostile), "--as", "officer.fr")
    assert Seizure.objects.count() == 0


def test_ten_thousand_rows_import_in_one_go(active_world):
    world = active_world
    rows = [seizure_data(commodity_description=f"bulk {n}") for n in range(10000)]
    data = csv_bytes(rows, delimiter=",")
    started = time.perf_counter()
    report = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    seconds = time.perf_counter() - started
    assert report.ok and report.created == 10000
    assert Seizure.objects.filter(operation=world.operation).count() == 10000
    print(f"10,000 rows imported in {seconds:.1f} s")


def test_exports_neutralise_formulas(client, active_world):
    world = active_world
    # CSV: a workbook would store "=..." as a formula rather than as text.
    data = csv_bytes(
        [seizure_data(place='=HYPERLINK("http://evil")', commodity_description="@SUM(A1)")]
    )
    seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    sign_in(client, world.observer)
    text = client.get(
        reverse("operations:seizures_export_csv", kwargs={"code": world.operation.code})
    ).content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'@SUM(A1)" in text
    xlsx = client.get(
        reverse("operations:seizures_export_xlsx", kwargs={"code": world.operation.code})
    ).content
    sheet = load_workbook(io.BytesIO(xlsx))["Seizures"]
    values = [cell.value for cell in sheet[2]]
    assert '\'=HYPERLINK("http://evil")' in values


def test_the_upload_page_for_each_role(client, active_world):
    world = active_world
    url = reverse("operations:seizures_import", kwargs={"code": world.operation.code})
    data = workbook_bytes([seizure_data()])
    sign_in(client, world.outsider)
    assert client.post(url, {"file": io.BytesIO(data)}).status_code == 404
    sign_in(client, world.observer)
    assert client.post(url, {"file": io.BytesIO(data)}).status_code == 403
    sign_in(client, world.officer_fr)
    upload = io.BytesIO(data)
    upload.name = "seizures.xlsx"
    response = client.post(url, {"file": upload})
    assert response.status_code == 200
    assert "The file was imported" in response.content.decode()
    assert Seizure.objects.count() == 1
    bad = io.BytesIO(workbook_bytes([seizure_data(quantity="zero")]))
    bad.name = "bad.xlsx"
    page = client.post(url, {"file": bad})
    # The column is named as the reader's sheet names it.
    assert page.status_code == 400 and "<td>Quantity</td>" in page.content.decode()


def test_the_import_command(active_world, tmp_path):
    world = active_world
    good = tmp_path / "good.csv"
    good.write_bytes(csv_bytes([seizure_data()]))
    call_command("import_seizures", world.operation.code, str(good), "--as", "officer.fr")
    assert Seizure.objects.count() == 1
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([seizure_data(unit="bushel")]))
    with pytest.raises(CommandError):
        call_command("import_seizures", world.operation.code, str(bad), "--as", "officer.fr")


@pytest.mark.django_db(databases=["default", "cen"])
def test_seed_demo_adds_validated_seizures_once(settings):
    settings.DEBUG = True
    call_command("seed_demo")
    story_validated, story_all = (
        Seizure.objects.filter(status="validated").count(),
        Seizure.objects.count(),
    )
    call_command("seed_demo", "--seizures", "50")
    assert Seizure.objects.filter(status="validated").count() == story_validated + 50
    call_command("seed_demo", "--seizures", "50")
    assert Seizure.objects.count() == story_all + 50


def test_the_operation_status_is_read_afresh_not_from_the_callers_copy(world):
    stale = Operation.objects.get(pk=world.operation.pk)
    assert stale.status == Operation.Status.PLANNED
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    # The caller's copy still says planned; the operation is active: the import runs.
    report = seizures_import(
        reporter=world.officer_fr, operation=stale, data=csv_bytes([seizure_data()])
    )
    assert report.ok and report.created == 1


# ---- one sheet for the whole operation: rows known by their id, not their place ----


def filled_template(operation, rows: list[dict], *, sheet_file: bytes | None = None) -> bytes:
    """The operation's template (or a sheet filled before) with ``rows`` typed in from
    the top, each on a row that came with its id."""
    workbook = load_workbook(io.BytesIO(sheet_file or template_workbook(operation=operation)))
    sheet = workbook.worksheets[0]
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(COLUMNS, start=1):
            if column == "client_uuid":
                continue
            value = row.get(column, "")
            sheet.cell(number, index, ", ".join(value) if isinstance(value, list) else value)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def typed_rows(workbook: bytes) -> list[dict]:
    """The rows of a sheet as the officer left them, each with its id."""
    sheet = load_workbook(io.BytesIO(workbook)).worksheets[0]
    header = [header_name(cell.value) for cell in sheet[1]]
    rows = []
    for values in sheet.iter_rows(min_row=2, values_only=True):
        row = {
            name: ("" if value is None else str(value))
            for name, value in zip(header, values, strict=False)
        }
        if row.get("place"):
            rows.append(row)
    return rows


def import_rows(world, rows: list[dict]):
    return seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=workbook_bytes(rows)
    )


def test_the_template_carries_a_ready_id_on_every_row_in_the_last_column(active_world):
    sheet = load_workbook(io.BytesIO(template_workbook(operation=active_world.operation)))[
        "Seizures"
    ]
    assert [cell.value for cell in sheet[1]][-1] == "Row identifier"
    ids = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(ids) >= 1000 and len(set(ids)) == len(ids)
    assert all(uuid.UUID(value) for value in ids)


def test_the_same_sheet_imported_twice_imports_once(active_world):
    world = active_world
    data = filled_template(
        world.operation, [seizure_data(commodity_description=f"r{n}") for n in range(3)]
    )
    first = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    again = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    assert (first.created, again.created, again.already_there, again.updated) == (3, 0, 3, 0)
    assert again.warnings == []
    assert Seizure.objects.count() == 3


def test_the_sheet_saved_again_with_one_row_appended_imports_that_row(active_world):
    world = active_world
    rows = [seizure_data(commodity_description=f"row {n}") for n in range(500)]
    data = filled_template(world.operation, rows)
    first = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    # Saved again by the spreadsheet program: other bytes, the same rows and ids.
    more = filled_template(
        world.operation, [*rows, seizure_data(commodity_description="new")], sheet_file=data
    )
    second = seizures_import(reporter=world.officer_fr, operation=world.operation, data=more)
    assert (first.created, second.created, second.already_there) == (500, 1, 500)
    assert Seizure.objects.filter(commodity_description="new").count() == 1
    assert Seizure.objects.count() == 501


def test_a_reordered_sheet_imports_nothing(active_world):
    world = active_world
    data = filled_template(
        world.operation, [seizure_data(commodity_description=f"r{n}") for n in range(5)]
    )
    seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    sorted_back = list(reversed(typed_rows(data)))
    report = import_rows(world, sorted_back)
    assert (report.created, report.already_there) == (0, 5)
    assert Seizure.objects.count() == 5


def test_a_corrected_row_updates_its_seizure_while_it_awaits_validation(active_world):
    world = active_world
    data = filled_template(world.operation, [seizure_data(), seizure_data(place="Le Havre port")])
    seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    rows = typed_rows(data)
    rows[1]["quantity"] = "40"
    before = counts()
    report = import_rows(world, rows)
    assert (report.created, report.updated, report.already_there) == (0, 1, 1)
    seizure = Seizure.objects.get(client_uuid=rows[1]["client_uuid"])
    assert seizure.quantity == 40 and seizure.status == Seizure.Status.SUBMITTED
    assert Seizure.objects.get(client_uuid=rows[0]["client_uuid"]).quantity == Decimal("12.5")
    assert counts()[0] == before[0]
    assert GroupEvent.objects.filter(group=world.group, type="seizure.corrected").count() == 1


@pytest.mark.parametrize(
    ("review", "reason"),
    [
        (lambda seizure, world: seizure_validate(seizure=seizure, actor=world.ocu), "validated"),
        (
            lambda seizure, world: seizure_reject(seizure=seizure, actor=world.ocu, reason="No"),
            "rejected",
        ),
    ],
)
def test_a_corrected_row_of_a_reviewed_seizure_is_refused_with_the_reason(
    active_world, review, reason
):
    world = active_world
    data = filled_template(world.operation, [seizure_data()])
    seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    rows = typed_rows(data)
    review(Seizure.objects.get(client_uuid=rows[0]["client_uuid"]), world)
    rows[0]["quantity"] = "40"
    rows.append(seizure_data(commodity_description="typed later"))
    before = counts()
    report = import_rows(world, rows)
    assert [(row, column) for row, column, _text in report.errors] == [(2, "")]
    assert reason in report.errors[0][2]
    assert counts() == before
    assert Seizure.objects.get(client_uuid=rows[0]["client_uuid"]).quantity == Decimal("12.5")
    # Unchanged, the reviewed row is simply already imported.
    rows[0]["quantity"] = "12.5"
    assert import_rows(world, rows).created == 1


def test_rows_without_ids_are_matched_on_their_content_with_a_warning(active_world):
    world = active_world
    # Two identical seizures are two rows: each is a seizure of its own.
    rows = [seizure_data(), seizure_data(), seizure_data(place="Marseille port")]
    first = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=csv_bytes(rows)
    )
    assert first.created == 3
    assert [(row, column) for row, column, _text in first.warnings] == [
        (2, "client_uuid"),
        (3, "client_uuid"),
        (4, "client_uuid"),
    ]
    # Saved again with other spaces and case, one row added, in another order.
    again = [
        seizure_data(place="Marseille  PORT"),
        seizure_data(quantity="12.50"),
        seizure_data(commodity_description="Heroin"),
        seizure_data(),
    ]
    second = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=csv_bytes(again)
    )
    assert (second.created, second.already_there) == (1, 3)
    assert "recognised by its content" in second.warnings[0][2]
    assert Seizure.objects.count() == 4
    # Another administration's identical seizure is not this one.
    other = seizures_import(
        reporter=world.officer_de,
        operation=world.operation,
        data=csv_bytes([seizure_data(reporting_country="DE")]),
    )
    assert other.created == 1


def test_the_export_carries_the_ids_and_imports_again_as_already_imported(client, active_world):
    world = active_world
    seizures_import(
        reporter=world.officer_fr,
        operation=world.operation,
        data=csv_bytes([seizure_data(), seizure_data(place="Lyon")]),
    )
    sign_in(client, world.officer_fr)
    for name in ("seizures_export_xlsx", "seizures_export_csv"):
        export = client.get(reverse(f"operations:{name}", kwargs={"code": world.operation.code}))
        report = seizures_import(
            reporter=world.officer_fr, operation=world.operation, data=export.content
        )
        assert (report.created, report.already_there, report.warnings) == (0, 2, [])
    sheet = load_workbook(io.BytesIO(export_xlsx_bytes(client, world)))["Seizures"]
    header = [cell.value for cell in sheet[1]]
    assert header[-1] == "Row identifier"
    assert {row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)} == {
        str(value) for value in Seizure.objects.values_list("client_uuid", flat=True)
    }


def export_xlsx_bytes(client, world) -> bytes:
    return client.get(
        reverse("operations:seizures_export_xlsx", kwargs={"code": world.operation.code})
    ).content


@pytest.mark.parametrize("kind", ["header only", "untouched template"])
def test_an_empty_file_is_reported_as_empty_not_as_nothing_imported(active_world, kind):
    world = active_world
    data = csv_bytes([]) if kind == "header only" else template_workbook(operation=world.operation)
    with pytest.raises(SpreadsheetError, match="The file has no seizures"):
        seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    assert counts() == (0, 0, GroupEvent.objects.count())


# ---- made for people: labels in the reader's language, read back in any language ----


def lists_of(workbook) -> dict[str, dict[str, str]]:
    """The hidden sheet's lists: for each, label to code."""
    sheet = workbook["Lists"]
    lists = {}
    columns = list(sheet.iter_cols(values_only=True))
    for labels, codes in zip(columns[::2], columns[1::2], strict=True):
        lists[labels[0]] = {
            label: code for label, code in zip(labels[1:], codes[1:], strict=True) if label
        }
    return lists


def test_the_template_speaks_the_readers_language_and_keeps_the_codes_hidden(active_world):
    with translation.override("fr"):
        data = template_workbook(operation=active_world.operation)
    workbook = load_workbook(io.BytesIO(data))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Saisies"
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Date de la saisie", "Pays déclarant", "Lieu"]
    assert not any("_" in name for name in header), header
    lists = lists_of(workbook)
    assert workbook["Lists"].sheet_state == "hidden"
    assert lists["detection_method"]["Profilage des risques"] == "risk_profiling"
    assert lists["concealment"]["Mêlé à une cargaison licite"] == "mixed_with_cargo"
    assert lists["countries"]["France (FR)"] == "FR"
    # What the drop-downs offer are the labels, never the codes.
    assert "risk_profiling" not in lists["detection_method"]
    validations = sheet.data_validations.dataValidation
    assert len(validations) == 11
    for validation in validations:
        assert validation.type == "list"
        assert validation.showErrorMessage is True
        assert validation.errorStyle == "stop"
        assert validation.error == "Choisissez une valeur dans la liste."
        assert validation.formula1.startswith("Lists!$")
    by_column = {str(v.sqref).split(":")[0][:-1]: v for v in validations}
    detection = by_column[chr(ord("A") + COLUMNS.index("detection_method"))]
    letter = detection.formula1.split("$")[1]
    offered = [cell.value for cell in workbook["Lists"][letter][1:] if cell.value]
    assert offered == list(lists["detection_method"])


def test_the_id_column_is_last_and_filled_in_whatever_the_language(active_world):
    with translation.override("ar"):
        sheet = load_workbook(io.BytesIO(template_workbook(operation=active_world.operation)))
    sheet = sheet.worksheets[0]
    assert sheet.sheet_view.rightToLeft
    header = [cell.value for cell in sheet[1]]
    assert header_name(header[-1]) == "client_uuid" and header[-1] != "client_uuid"
    ids = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids and all(uuid.UUID(value) for value in ids)


def labelled(row: dict, lists: dict[str, dict[str, str]]) -> dict:
    """A seizure row as an officer fills it from the drop-downs: labels, not codes."""
    codes_to_labels = {
        name: {code: label for label, code in found.items()} for name, found in lists.items()
    }
    sources = {
        "reporting_country": "countries",
        "departure_country": "countries",
        "destination_country": "countries",
    }
    typed = dict(row)
    for name, value in row.items():
        source = sources.get(name, name)
        if source in codes_to_labels and value:
            typed[name] = codes_to_labels[source][value]
    return typed


def test_a_french_template_imports_on_an_english_server(active_world):
    world = active_world
    with translation.override("fr"):
        template = template_workbook(operation=world.operation)
    lists = lists_of(load_workbook(io.BytesIO(template)))
    row = labelled(
        seizure_data(detection_method="risk_profiling", concealment="mixed_with_cargo"), lists
    )
    assert row["detection_method"] == "Profilage des risques"
    assert row["reporting_country"] == "France (FR)"
    data = filled_template(world.operation, [row], sheet_file=template)
    with translation.override("en"):
        report = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    assert (report.ok, report.created) == (True, 1), report.errors
    seizure = Seizure.objects.get()
    assert (seizure.detection_method, seizure.concealment) == ("risk_profiling", "mixed_with_cargo")
    assert (seizure.reporting_country, seizure.departure_country) == ("FR", "CO")
    # The same sheet again, on a server speaking Spanish: already imported.
    with translation.override("es"):
        again = seizures_import(reporter=world.officer_fr, operation=world.operation, data=data)
    assert (again.created, again.already_there) == (0, 1)


def test_arabic_headers_and_labels_import_and_codes_still_do(active_world):
    world = active_world
    with translation.override("ar"):
        header = [column_label(name) for name in COLUMNS]
        lists = lists_of(load_workbook(io.BytesIO(template_workbook(operation=world.operation))))
    arabic = labelled(seizure_data(location_type="seaport", transport_mode="sea"), lists)
    assert arabic["location_type"] != "seaport"
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(header)
    for row in (arabic, seizure_data(place="Le Havre")):  # a second row with codes
        writer.writerow(
            [", ".join(row[c]) if isinstance(row.get(c), list) else row.get(c, "") for c in COLUMNS]
        )
    report = seizures_import(
        reporter=world.officer_fr, operation=world.operation, data=output.getvalue().encode()
    )
    assert (report.ok, report.created) == (True, 2), report.errors
    assert set(Seizure.objects.values_list("location_type", flat=True)) == {"seaport", "airport"}


def test_a_value_from_no_list_is_refused_with_the_list_and_nothing_is_written(active_world):
    world = active_world
    before = counts()
    rows = [seizure_data(), seizure_data(detection_method="Sniffing pig")]
    with translation.override("fr"):
        report = seizures_import(
            reporter=world.officer_fr, operation=world.operation, data=workbook_bytes(rows)
        )
    assert [(row, column) for row, column, _text in report.errors] == [(3, "detection_method")]
    assert "Profilage des risques" in report.errors[0][2]
    assert counts() == before


def test_a_column_named_twice_in_two_languages_refuses_the_file(active_world):
    header = [*COLUMNS[:-1], "Lieu"]  # "place" in French, beside "place"
    with pytest.raises(SpreadsheetError, match="columns named twice: Place"):
        seizures_import(
            reporter=active_world.officer_fr,
            operation=active_world.operation,
            data=workbook_bytes([seizure_data()], header=header),
        )


def test_the_import_page_shows_what_was_imported_in_the_readers_language(client, active_world):
    world = active_world
    url = reverse("operations:seizures_import", kwargs={"code": world.operation.code})
    sign_in(client, world.officer_fr)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    upload = io.BytesIO(csv_bytes([seizure_data(), seizure_data(place="Lyon")]))
    upload.name = "sans-id.csv"
    page = client.post(url, {"file": upload}).content.decode()
    assert "Le fichier a été importé" in page
    assert "Le modèle est dans votre langue" in page
    assert page.count("Identifiant de ligne") == 2  # each row without an id, by its column
    empty = io.BytesIO(csv_bytes([]))
    empty.name = "vide.csv"
    response = client.post(url, {"file": empty})
    assert response.status_code == 400
    assert "Le fichier ne contient aucune saisie" in response.content.decode()


def test_the_import_command_reads_a_french_template_once(active_world, tmp_path):
    world = active_world
    with translation.override("fr"):
        template = template_workbook(operation=world.operation)
    lists = lists_of(load_workbook(io.BytesIO(template)))
    sheet = tmp_path / "saisies.xlsx"
    sheet.write_bytes(
        filled_template(world.operation, [labelled(seizure_data(), lists)], sheet_file=template)
    )
    out = io.StringIO()
    call_command(
        "import_seizures", world.operation.code, str(sheet), "--as", "officer.fr", stdout=out
    )
    call_command(
        "import_seizures", world.operation.code, str(sheet), "--as", "officer.fr", stdout=out
    )
    assert out.getvalue().splitlines() == [
        "1 seizures imported, 0 corrected, 0 already imported (1 rows).",
        "0 seizures imported, 0 corrected, 1 already imported (1 rows).",
    ]
    assert Seizure.objects.count() == 1


def test_the_xlsx_export_is_the_readers_sheet_and_continues_in_another_language(
    client, active_world
):
    world = active_world
    seizures_import(
        reporter=world.officer_fr,
        operation=world.operation,
        data=csv_bytes(
            [seizure_data(detection_method="risk_profiling"), seizure_data(place="Lyon")]
        ),
    )
    sign_in(client, world.officer_fr)
    client.cookies[django_settings.LANGUAGE_COOKIE_NAME] = "fr"
    export = export_xlsx_bytes(client, world)
    workbook = load_workbook(io.BytesIO(export))
    sheet = workbook.worksheets[0]
    assert sheet.title == "Saisies" and workbook["Lists"].sheet_state == "hidden"
    header = [cell.value for cell in sheet[1]]
    assert header[0] == "Statut" and header[-1] == "Identifiant de ligne"
    first = dict(zip(header, [cell.value for cell in sheet[2]], strict=True))
    # Both seizures say the same of these.
    assert first["Méthode de détection"] == "Profilage des risques"
    assert first["Pays déclarant"] == "France (FR)"
    assert first["Statut"] == "Soumise"
    validations = sheet.data_validations.dataValidation
    assert validations and all(v.errorStyle == "stop" and v.showErrorMessage for v in validations)
    # An officer adds a row in French and corrects another; an English server reads it.
    typed = labelled(seizure_data(place="Nice", transit_countries="ES"), lists_of(workbook))
    sheet.append(["", "", "", "", *(typed.get(name, "") for name in COLUMNS[:-1]), new_uuid()])
    lyon = next(
        row[0].row
        for row in sheet.iter_rows(min_row=2)
        if row[header.index("Lieu")].value == "Lyon"
    )
    sheet.cell(lyon, header.index("Quantité") + 1, "99")
    output = io.BytesIO()
    workbook.save(output)
    with translation.override("en"):
        report = seizures_import(
            reporter=world.officer_fr, operation=world.operation, data=output.getvalue()
        )
    assert (report.created, report.updated, report.already_there) == (1, 1, 1), report.errors
    assert Seizure.objects.get(place="Lyon").quantity == 99
    assert Seizure.objects.filter(place="Nice").count() == 1


def test_an_oversized_upload_is_refused_with_the_limit_and_stores_nothing(
    client, active_world, settings
):
    world = active_world
    settings.SPREADSHEET_MAX_BYTES = 1024 * 1024
    url = reverse("operations:seizures_import", kwargs={"code": world.operation.code})
    sign_in(client, world.officer_fr)
    rows = [seizure_data(commodity_description=f"row {n}") for n in range(10_000)]
    upload = io.BytesIO(csv_bytes(rows))
    assert len(upload.getvalue()) > 1024 * 1024
    upload.name = "big.csv"
    before = counts()
    page = client.post(url, {"file": upload})
    assert page.status_code == 400
    assert "The file is larger than 1 MB." in page.content.decode()
    assert counts() == before
