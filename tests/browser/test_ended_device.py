"""A device whose session was ended from elsewhere wipes its outbox and kept pages the
next time it is online. A persistent Chromium profile stands for the officer's phone,
as in test_offline_outbox.py."""

import time

import pytest

from groups.models import UserSession
from groups.sessions import session_end
from messaging.models import Message
from operations.models import Operation
from operations.services import operation_set_status
from tests.browser.test_offline_outbox import phone, playwright, sign_in  # noqa: F401
from tests.live import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What the device keeps: the outbox's items and the service worker's copies of pages.
KEPT = """async () => {
  const db = await new Promise((resolve, reject) => {
    const request = indexedDB.open("cencomm-offline", 2);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  const items = await new Promise((resolve) => {
    const count = db.transaction("queue").objectStore("queue").count();
    count.onsuccess = () => resolve(count.result);
  });
  db.close();
  const pages = (await caches.keys()).filter((name) => name.startsWith("cencomm-pages:"));
  return { items, pages: pages.length };
}"""


def _kept(page) -> dict:
    return page.evaluate(KEPT)


def _end_phone_session(world) -> None:
    record = UserSession.objects.get(user=world.officer_fr, ended_at__isnull=True)
    assert session_end(user=world.officer_fr, public_id=record.public_id, by=world.staff)


def test_an_ended_device_wipes_its_outbox_and_pages_when_it_comes_back_online(
    world,
    live,
    playwright,  # noqa: F811
    tmp_path,
):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    group_url = f"{live.url}/groups/{world.group.slug}/"
    context = phone(playwright, tmp_path / "profile")
    try:
        page = context.pages[0] if context.pages else context.new_page()
        sign_in(page, live, "officer.fr")
        page.goto(group_url)
        page.wait_for_selector("#connection[data-state=online]")
        page.wait_for_selector("body[data-offline-ready=true]", timeout=15000)

        # Offline, the officer writes; the message waits in the outbox.
        context.set_offline(True)
        page.fill("#composer-body", "Written on a phone that was then lost")
        page.click("#composer-send")
        page.locator("#outbox-indicator[data-waiting='1']").wait_for()
        kept = _kept(page)
        assert kept["items"] == 1 and kept["pages"] >= 1

        # Meanwhile staff end the phone's session.
        in_thread(_end_phone_session, world)

        # Back online: the page learns its session ended, goes to the login page, and
        # the device's copies are gone.
        context.set_offline(False)
        page.wait_for_url(lambda url: url.startswith(f"{live.url}/login/"), timeout=20000)
        deadline = time.monotonic() + 15
        while (kept := _kept(page)) != {"items": 0, "pages": 0} and time.monotonic() < deadline:
            time.sleep(0.2)
        assert kept == {"items": 0, "pages": 0}
    finally:
        context.close()
    # Nothing written on the ended device reached the group.
    assert not Message.objects.filter(group=world.group, author=world.officer_fr).exists()
