"""The XSS corpus through every door, rendered by Chromium: no dialog, no blocked script."""

import datetime
import io
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from groups.models import Administration
from messaging.attachments import attachment_upload
from messaging.services import message_post
from operations.models import Operation
from operations.services import operation_create, operation_set_status, seizure_report
from tests.conftest import PASSWORD
from tests.operations.conftest import seizure_data
from tests.security.xss_corpus import VECTORS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def hostile_world(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world.officer_de.first_name = "<img src=x onerror=alert('first')>"
    world.officer_de.last_name = "<script>alert('last')</script>"
    world.officer_de.save()
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    for vector in VECTORS:
        message_post(
            author=world.officer_de,
            group=world.group,
            body=vector,
            client_id=uuid.uuid4(),
            kind="alert",
        )
    for vector in VECTORS[:12]:
        seizure_report(
            reporter=world.officer_de,
            operation=world.operation,
            data=seizure_data(
                place=vector[:200],
                commodity_description=vector[:300],
                concealment_details=vector[:500],
            ),
            client_uuid=uuid.uuid4(),
        )
    # Spreadsheet cells: the same vectors arrive through an import.
    import csv as csv_module

    from operations.seizure_rules import FIELDS
    from operations.spreadsheets import seizures_import

    sheet = io.StringIO()
    writer = csv_module.writer(sheet)
    writer.writerow(FIELDS)
    for vector in VECTORS[12:30]:
        row = seizure_data(place=vector[:200], commodity_description=vector[:300])
        writer.writerow(
            [", ".join(row[f]) if isinstance(row.get(f), list) else row.get(f, "") for f in FIELDS]
        )
    report = seizures_import(
        reporter=world.officer_de, operation=world.operation, data=sheet.getvalue().encode()
    )
    assert report.ok, report.errors
    image = io.BytesIO()
    Image.new("RGB", (8, 8)).save(image, format="PNG")
    attachment = attachment_upload(
        user=world.officer_de,
        group=world.group,
        uploaded_file=SimpleUploadedFile("<img src=x onerror=alert('file')>.png", image.getvalue()),
    )
    message_post(
        author=world.officer_de,
        group=world.group,
        body="photo",
        client_id=uuid.uuid4(),
        attachment_tokens=[attachment.token],
    )
    today = datetime.date.today()
    hostile_operation = operation_create(
        code="XSS-1",
        name="<svg onload=alert('operation')>",
        commodity_focus="drugs",
        coordinating_administration=Administration.objects.get(country="BE"),
        planned_start=today,
        planned_end=today + datetime.timedelta(days=5),
        created_by=world.ocu,
    )
    from groups.services import membership_add

    membership_add(
        group=hostile_operation.group, user=world.officer_fr, role="member", added_by=world.ocu
    )
    return world


def test_no_page_runs_any_of_the_hostile_inputs(hostile_world, live, login_page):
    world = hostile_world
    page = login_page("officer.fr", PASSWORD)
    dialogs, blocked = [], []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.on(
        "console",
        lambda message: (
            blocked.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    seizure = world.operation.seizures.first()
    code = world.operation.code
    paths = [
        "/groups/",
        f"/groups/{world.group.slug}/",
        f"/groups/{world.group.slug}/members/",
        "/operations/",
        f"/operations/{code}/",
        f"/operations/{code}/seizures/",
        f"/operations/{code}/seizures/{seizure.client_uuid}/",
        f"/operations/{code}/dashboard/",
        "/operations/XSS-1/",
        f"/groups/{world.group.slug}/messages/?before=999999",
    ]
    for path in paths:
        page.goto(live.url + path)
        page.wait_for_load_state("networkidle")
        if path == f"/groups/{world.group.slug}/":
            page.locator("#connection[data-state=online]").wait_for()
            page.locator("#messages .message").nth(20).wait_for()
            # Scroll through the whole history so that every message is rendered.
            for _ in range(3):
                page.locator("#messages").evaluate("list => { list.scrollTop = 0; }")
                page.wait_for_timeout(300)
        page.mouse.move(200, 300)
        page.keyboard.press("Tab")
    assert dialogs == []
    assert blocked == []
    # The inputs are shown as text, not dropped: an officer sees what was written.
    page.goto(f"{live.url}/groups/{world.group.slug}/")
    page.locator("#messages .message").nth(20).wait_for()
    assert "alert(" in page.inner_text("#messages")
