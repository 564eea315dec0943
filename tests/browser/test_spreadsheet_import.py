"""An officer uploads the running sheet in Chromium, twice, and reads what happened."""

import io
import os
from pathlib import Path

import pytest
from django.utils import translation
from openpyxl import load_workbook

from operations.models import Operation, Seizure
from operations.services import operation_set_status
from operations.spreadsheets import COLUMNS, template_workbook
from tests.conftest import PASSWORD
from tests.operations.conftest import seizure_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "en": ("The file was imported", "New seizures imported", "Row identifier"),
    "fr": ("Le fichier a été importé", "Nouvelles saisies importées", "Identifiant de ligne"),
}


def sheet_in(language: str, operation, rows: list[dict]) -> bytes:
    """The template in ``language``, filled from the top with the lists' labels."""
    with translation.override(language):
        workbook = load_workbook(io.BytesIO(template_workbook(operation=operation)))
    lists = workbook["Lists"]
    labels = {}
    for labels_column, codes_column in zip(
        list(lists.iter_cols(values_only=True))[::2],
        list(lists.iter_cols(values_only=True))[1::2],
        strict=True,
    ):
        labels[labels_column[0]] = dict(zip(codes_column[1:], labels_column[1:], strict=True))
    sheet = workbook.worksheets[0]
    for number, row in enumerate(rows, start=2):
        for index, column in enumerate(COLUMNS[:-1], start=1):
            value = row.get(column, "")
            value = ", ".join(value) if isinstance(value, list) else value
            listed = "countries" if column.endswith("_country") else column
            sheet.cell(number, index, labels.get(listed, {}).get(value, value))
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_running_sheet_uploaded_twice_says_what_is_new(
    world, live, login_page, tmp_path, language
):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    operation = Operation.objects.get(pk=world.operation.pk)
    first = sheet_in(language, operation, [seizure_data(), seizure_data(place="Orly")])
    page = login_page("officer.fr", PASSWORD, language=language)
    page.goto(f"{live.url}/operations/{operation.code}/seizures/import/")
    page.select_option("#language-select", language)
    page.click(".language-form button")
    page.wait_for_load_state()
    path = tmp_path / "sheet.xlsx"
    path.write_bytes(first)
    page.set_input_files("#id_file", str(path))
    page.click("form button[type=submit].button-primary")
    result = page.locator("#import-result")
    result.wait_for()
    done, new, id_column = TEXTS[language]
    assert done in result.inner_text()
    assert Seizure.objects.filter(operation=operation).count() == 2
    # The same sheet with one row corrected by hand, and a row typed below without its id.
    workbook = load_workbook(io.BytesIO(first))
    sheet = workbook.worksheets[0]
    sheet.cell(3, COLUMNS.index("quantity") + 1, "30")
    for index in range(1, len(COLUMNS)):
        sheet.cell(4, index, sheet.cell(2, index).value)
    sheet.cell(4, len(COLUMNS)).value = None  # typed below the filled rows: no id
    sheet.cell(4, COLUMNS.index("place") + 1, "Nice")
    workbook.save(path)
    page.set_input_files("#id_file", str(path))
    page.click("form button[type=submit].button-primary")
    page.locator("#import-warnings").wait_for()
    stats = page.locator("#import-result .stat-value").all_inner_texts()
    assert stats == ["1", "1", "1"]
    assert new in result.inner_text()
    rows = page.locator("#import-warnings tbody tr").all_inner_texts()
    assert len(rows) == 1 and rows[0].startswith("4") and id_column in rows[0]
    assert Seizure.objects.get(place="Orly").quantity == 30
    shots = Path(os.environ.get("CENCOMM_SCREENSHOTS", tmp_path))
    page.screenshot(path=str(shots / f"import-result-{language}.png"), full_page=True)
