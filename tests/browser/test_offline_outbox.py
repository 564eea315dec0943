"""Installable, offline from the first visit, and one outbox where nothing is lost.

A persistent Chromium profile stands for an officer's phone: one online visit to the
group page, then the network goes; the pages open from the service worker's copies,
after a reload and after the browser is closed and opened again, and what is written
offline waits in the device's outbox until the connection returns.
"""

import io
import json
import urllib.request

import pytest
from PIL import Image

from messaging.models import Message
from messaging.services import message_post
from operations.models import Operation, Seizure
from operations.services import operation_set_status
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS
from tests.browser.test_operations_pages import fill_seizure
from tests.conftest import PASSWORD
from tests.live import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WRITTEN = [f"Written offline {number}" for number in range(1, 4)]


@pytest.fixture
def playwright():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


def phone(playwright, profile):
    """The officer's browser: its profile (cookies, service worker, IndexedDB) outlives it."""
    return playwright.chromium.launch_persistent_context(
        user_data_dir=str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        locale="en",
        viewport={"width": 1280, "height": 900},
    )


def sign_in(page, live, username):
    page.goto(f"{live.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].button-primary")
    page.wait_for_url(f"{live.url}/groups/")


def test_the_group_opens_offline_after_one_visit_and_the_outbox_sends_everything_once_in_order(
    world, live, playwright, tmp_path
):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    in_thread(
        message_post,
        author=world.officer_de,
        group=world.group,
        body="Seen before the cut",
        client_id="00000000-0000-4000-8000-000000000001",
    )
    group_url = f"{live.url}/groups/{world.group.slug}/"
    form_url = f"{live.url}/operations/{world.operation.code}/seizures/new/"
    profile = tmp_path / "profile"

    # One online visit to the group page keeps it, and the group's other pages.
    context = phone(playwright, profile)
    page = context.pages[0] if context.pages else context.new_page()
    sign_in(page, live, "officer.fr")
    page.goto(group_url)
    page.wait_for_selector("#connection[data-state=online]")
    page.wait_for_selector("body[data-offline-ready=true]", timeout=15000)

    context.set_offline(True)
    page.reload()
    page.locator("#messages .message-body:has-text('Seen before the cut')").wait_for()
    page.locator("#outbox-indicator[data-offline=true]").wait_for()
    assert "Offline" in page.inner_text("#outbox-indicator")
    context.close()

    # The browser is opened again, still without a network.
    context = phone(playwright, profile)
    context.set_offline(True)
    page = context.pages[0] if context.pages else context.new_page()
    page.goto(group_url)
    page.locator("#messages .message-body:has-text('Seen before the cut')").wait_for()
    for number, text in enumerate(WRITTEN, start=1):
        page.fill("#composer-body", text)
        page.click("#composer-send")
        page.locator(f"#outbox-indicator[data-waiting='{number}']").wait_for()
    assert page.locator("#messages .message.is-pending").count() == 3

    page.goto(form_url)
    fill_seizure(page, "Written offline 4: heroin in a spare tyre", "4")
    page.click("#seizure-submit")
    page.locator("#queue-list li").first.wait_for()
    page.locator("#outbox-indicator[data-waiting='4']").wait_for()
    assert "4 waiting to be sent" in page.inner_text("#outbox-indicator")
    page.click("#outbox-indicator")
    assert page.locator("#outbox-list li[data-state=waiting]").count() == 4
    page.keyboard.press("Escape")
    assert Message.objects.filter(group=world.group).count() == 1

    # A colleague watches the group live while the connection comes back.
    colleague_browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    try:
        colleague = colleague_browser.new_context(locale="en").new_page()
        sign_in(colleague, live, "officer.de")
        colleague.goto(group_url)
        colleague.wait_for_selector("#connection[data-state=online]")

        context.set_offline(False)
        page.locator("#outbox-indicator[data-idle=true]").wait_for(timeout=30000)
        page.locator("#offline-queue").wait_for(state="hidden")

        for text in WRITTEN:
            colleague.locator(f"#messages .message-body:has-text('{text}')").wait_for()
        colleague.locator("#messages .seizure-card:has-text('heroin in a spare tyre')").wait_for()
    finally:
        colleague_browser.close()

    sent = list(Message.objects.filter(group=world.group, author=world.officer_fr).order_by("seq"))
    assert [message.kind for message in sent] == ["text", "text", "text", "seizure"]
    assert [message.body for message in sent[:3]] == WRITTEN
    seizure = Seizure.objects.get(operation=world.operation)
    assert seizure.message == sent[3]
    assert seizure.commodity_description == "Written offline 4: heroin in a spare tyre"
    context.close()


def test_the_manifest_is_served_and_its_icons_load(live):
    page = urllib.request.urlopen(f"{live.url}/login/").read().decode()
    assert '<link rel="manifest" href="/manifest.webmanifest">' in page
    response = urllib.request.urlopen(f"{live.url}/manifest.webmanifest")
    assert response.headers["Content-Type"] == "application/manifest+json"
    manifest = json.loads(response.read())
    assert manifest["start_url"] == "/groups/"
    assert manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"]
    assert manifest["theme_color"] == "#123a63"
    sizes = set()
    for icon in manifest["icons"]:
        body = urllib.request.urlopen(f"{live.url}{icon['src']}").read()
        if icon["type"] == "image/png":
            width, height = Image.open(io.BytesIO(body)).size
            assert icon["sizes"] == f"{width}x{height}"
            sizes.add(width)
        else:
            assert body.startswith(b"<svg")
    assert {192, 512} <= sizes
    policy = urllib.request.urlopen(f"{live.url}/login/").headers["Content-Security-Policy"]
    assert "manifest-src 'self'" in policy
