"""The outbox leaves a device in a file and arrives on another, and logging out warns.

An officer writes a message and a seizure with no network, exports the outbox, and
imports the file on a second browser (another device): it sends them there, and when
the first device comes back online its own copies are not stored a second time. The
seizures' spreadsheet file is the operation's import format. Logging out asks first
when something has not been sent, and only then.
"""

import pytest

from messaging.models import Message
from operations.models import Operation, Seizure
from operations.services import operation_set_status
from operations.spreadsheets import seizures_import
from tests.browser.test_accessibility import axe_violations
from tests.browser.test_operations_pages import fill_seizure
from tests.conftest import PASSWORD
from tests.live import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def write_offline(page, live, world):
    """A message on the group page and a seizure on the form, with the network cut."""
    group_url = f"{live.url}/groups/{world.group.slug}/"
    page.goto(group_url)
    page.wait_for_selector("#connection[data-state=online]")
    form = page.context.new_page()
    form.goto(f"{live.url}/operations/{world.operation.code}/seizures/new/")
    page.context.set_offline(True)
    page.fill("#composer-body", "Written on the first phone")
    page.click("#composer-send")
    page.locator("#outbox-indicator[data-waiting='1']").wait_for()
    fill_seizure(form, "Cocaine in a car door, first phone", "3")
    form.click("#seizure-submit")
    form.locator("#queue-list li .outbox-state:has-text('Waiting')").wait_for()
    page.locator("#outbox-indicator[data-waiting='2']").wait_for()
    form.close()


def test_an_exported_outbox_is_imported_on_another_device_and_everything_arrives_once(
    active, live, login_page, tmp_path
):
    world = active
    first = login_page("officer.fr", PASSWORD)
    write_offline(first, live, world)

    downloads = []
    first.on("download", lambda download: downloads.append(download))
    first.click("#outbox-indicator")
    first.click("#outbox-export")
    first.wait_for_function("document.getElementById('outbox-file-status').textContent !== ''")
    # Two files, the second a moment after the first on a loaded machine.
    for _ in range(300):
        if len(downloads) >= 2:
            break
        first.wait_for_timeout(100)
    files = {download.suggested_filename: download for download in downloads}
    [outbox_name] = [name for name in files if name.endswith(".json")]
    [sheet_name] = [name for name in files if name.endswith(".csv")]
    assert outbox_name.startswith("cencomm-outbox-officer.fr-")
    assert sheet_name.startswith(f"cencomm-seizures-{world.operation.code}-")
    outbox_file = tmp_path / outbox_name
    files[outbox_name].save_as(outbox_file)
    sheet = tmp_path / sheet_name
    files[sheet_name].save_as(sheet)
    assert Message.objects.filter(author=world.officer_fr).count() == 0

    # The second device imports the file and sends what it holds.
    second = login_page("officer.fr", PASSWORD)
    second.goto(f"{live.url}/groups/{world.group.slug}/")
    second.wait_for_selector("#connection[data-state=online]")
    second.click("#outbox-indicator")
    second.set_input_files("#outbox-import-file", str(outbox_file))
    second.locator(
        "#outbox-file-status:has-text('2 added to the outbox, 0 already in it.')"
    ).wait_for()
    second.locator("#outbox-indicator[data-idle=true]").wait_for(timeout=30000)
    second.locator("#messages .message-body:has-text('Written on the first phone')").wait_for()
    second.locator("#messages .seizure-card:has-text('first phone')").wait_for()
    # The same file again adds nothing.
    second.set_input_files("#outbox-import-file", str(outbox_file))
    second.locator(
        "#outbox-file-status:has-text('0 added to the outbox, 2 already in it.')"
    ).wait_for()

    # The first device comes back: its copies go, and are stored once.
    first.keyboard.press("Escape")
    first.context.set_offline(False)
    first.locator("#outbox-indicator[data-idle=true]").wait_for(timeout=30000)
    sent = list(Message.objects.filter(author=world.officer_fr).order_by("seq"))
    assert [message.kind for message in sent] == ["text", "seizure"]
    assert sent[0].body == "Written on the first phone"
    [seizure] = Seizure.objects.filter(operation=world.operation)
    assert seizure.commodity_description == "Cocaine in a car door, first phone"

    # The spreadsheet file is one the operation's import takes, row id and all.
    report = in_thread(
        seizures_import,
        reporter=world.officer_fr,
        operation=world.operation,
        data=sheet.read_bytes(),
    )
    assert report.errors == []
    assert (report.rows, report.created, report.already_there) == (1, 0, 1)


def test_another_users_export_is_refused(active, live, login_page, tmp_path):
    world = active
    first = login_page("officer.fr", PASSWORD)
    write_offline(first, live, world)
    first.click("#outbox-indicator")
    with first.expect_download() as download:
        first.click("#outbox-export")
    path = tmp_path / "outbox.json"
    download.value.save_as(path)

    other = login_page("officer.de", PASSWORD)
    other.goto(f"{live.url}/groups/{world.group.slug}/")
    other.click("#outbox-indicator")
    other.set_input_files("#outbox-import-file", str(path))
    other.locator("#outbox-file-status:has-text('exported by officer.fr')").wait_for()
    not_an_export = tmp_path / "notes.json"
    not_an_export.write_text('{"items": []}')
    other.set_input_files("#outbox-import-file", str(not_an_export))
    other.locator("#outbox-file-status:has-text('not an export of an outbox')").wait_for()
    assert other.get_attribute("#outbox-indicator", "data-waiting") == "0"


def test_logging_out_warns_when_something_is_not_sent_and_only_then(active, live, login_page):
    world = active
    page = login_page("officer.fr", PASSWORD)
    page.goto(f"{live.url}/groups/{world.group.slug}/")
    page.wait_for_selector("#connection[data-state=online]")
    page.context.set_offline(True)
    page.fill("#composer-body", "Not sent yet")
    page.click("#composer-send")
    page.locator("#outbox-indicator[data-waiting='1']").wait_for()

    page.click("form[data-logout] button")
    dialog = page.locator("#logout-dialog")
    dialog.wait_for()
    assert axe_violations(page, "the logout warning") == []
    assert "1 item(s) written on this device have not been sent" in dialog.inner_text()
    with page.expect_download() as download:
        page.click("#logout-export")
    assert download.value.suggested_filename.endswith(".json")
    dialog.locator("button:has-text('Cancel')").click()
    dialog.wait_for(state="hidden")
    assert page.url.endswith(f"/groups/{world.group.slug}/")

    # Sent: nothing would be lost, so logging out asks nothing.
    page.context.set_offline(False)
    page.locator("#outbox-indicator[data-idle=true]").wait_for(timeout=30000)
    page.click("form[data-logout] button")
    page.wait_for_selector("#id_username")
    assert not page.locator("#logout-dialog[open]").count()
    assert Message.objects.filter(author=world.officer_fr, body="Not sent yet").count() == 1
