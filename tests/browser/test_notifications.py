"""The group page's notifications in Chromium: the choices made with the keyboard, the
browser's permission, and a system notification when a chosen event arrives while the
page is hidden (and none while it is visible, or for what was not chosen)."""

import uuid

import pytest

from groups.models import NotificationChoice
from messaging.services import message_post
from tests.conftest import PASSWORD
from tests.live import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOWN = "window.cencommNotifications.shown"
SHOWN_NOW = f"() => {SHOWN}"


def open_group(login_page, live, world, username):
    page = login_page(username, PASSWORD)
    page.context.grant_permissions(["notifications"], origin=live.url)
    page.goto(f"{live.url}/groups/{world.group.slug}/")
    page.wait_for_selector("#connection[data-state=online]")
    return page


def post(world, author, body, kind):
    in_thread(
        message_post,
        author=author,
        group=world.group,
        body=body,
        client_id=str(uuid.uuid4()),
        kind=kind,
    )


def test_a_hidden_page_shows_a_notification_of_a_chosen_alert_and_nothing_else(
    world, live, login_page
):
    page = open_group(login_page, live, world, "officer.de")
    # Chosen with the keyboard: Tab to the checkbox, Space; Tab to the button, Enter.
    page.focus("input[name=alerts]")
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.getElementById('notify-status').textContent === 'Saved.'"
    )
    assert NotificationChoice.objects.get(user=world.officer_de, group=world.group).alerts
    page.focus("#notify-device")
    page.keyboard.press("Enter")
    page.wait_for_selector("#notify-device[aria-pressed=true]")
    assert "while a CENcomm page is open" in page.inner_text("#notify-status")

    # Visible: the page shows the alert, no notification.
    post(world, world.officer_fr, "Watch AF401 at gate 12", "alert")
    page.wait_for_selector("#messages .message")
    assert page.evaluate(SHOWN_NOW) == []

    # Hidden. Headless Chromium reports every page visible, behind another tab or in a
    # minimised window alike, so the page is told it is hidden: the one thing stubbed.
    page.evaluate(
        """() => {
            Object.defineProperty(document, "visibilityState", { get: () => "hidden" });
            document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    post(world, world.officer_fr, "a plain message", "text")
    post(world, world.officer_fr, "Second alert: van NL-12-AB", "alert")
    page.wait_for_function(f"() => {SHOWN}.length > 0")
    page.wait_for_timeout(300)
    shown = page.evaluate(SHOWN_NOW)
    slug = world.group.slug
    assert shown == [
        {"group": slug, "kind": "alerts", "title": f"New in {slug}", "body": "A new alert"}
    ]
    notes = page.evaluate(
        """navigator.serviceWorker.getRegistration().then(async (registration) =>
            registration ? (await registration.getNotifications()).map((n) => [n.title, n.body, n.tag]) : null)"""
    )
    # Shown by the browser, through the service worker, tagged with the group (a push
    # for the same group replaces it rather than showing twice).
    assert notes == [[f"New in {slug}", "A new alert", f"cencomm:{slug}"]]
