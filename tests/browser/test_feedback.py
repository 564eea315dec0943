"""Feedback where the eyes are, on a phone: the answer to an action is in view and has
the focus, and a double tap acts once. Also the undo of a review, live in the group."""

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import expect

from core.models import AuditEntry
from operations.models import Operation, Seizure
from operations.services import operation_set_status, seizure_report, seizure_validate
from tests.browser.test_operations_pages import fill_seizure
from tests.conftest import PASSWORD
from tests.live import in_thread
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def coordinator_on_phone(browser, live, user, *, language="en"):
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    context = browser.new_context(locale=language, viewport=PHONE)
    page = context.new_page()
    page.goto(f"{live.url}/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", PASSWORD)
    page.click("form button[type=submit].button-primary")
    page.wait_for_url(f"{live.url}/login/verify/**")
    page.fill("#id_code", f"{totp(device.bin_key):06d}")
    page.press("#id_code", "Enter")
    page.wait_for_url(f"{live.url}/groups/")
    return page


def focused_id(page) -> str:
    """The focused element's id, once the page's scripts have run."""
    page.wait_for_load_state("load")
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_a_report_on_a_phone_is_confirmed_in_view_with_the_focus_and_stored_once(
    active, live, login_page
):
    world = active
    page = login_page("officer.fr", PASSWORD, viewport=PHONE)
    page.goto(f"{live.url}/operations/{world.operation.code}/seizures/new/")
    fill_seizure(page, "Tapped twice on a phone", "4")
    page.locator("#seizure-submit").scroll_into_view_if_needed()
    page.dblclick("#seizure-submit")
    page.locator("#form-done a").wait_for()
    page.wait_for_timeout(500)
    assert Seizure.objects.filter(operation=world.operation).count() == 1
    done = page.locator("#form-done")
    expect(done).to_be_in_viewport()
    assert focused_id(page) == "form-done"
    assert done.get_attribute("role") == "status"
    assert done.get_attribute("tabindex") == "-1"


def test_a_validation_and_its_undo_are_confirmed_in_view_and_live_in_the_group(
    active, live, browser, login_page
):
    world = active
    seizure, _created = in_thread(
        seizure_report,
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(commodity_description="Reviewed on a phone"),
        client_uuid=new_uuid(),
    )
    member = login_page("officer.de", PASSWORD)
    member.goto(f"{live.url}/groups/{world.group.slug}/")
    member.locator("#connection[data-state=online]").wait_for()

    page = coordinator_on_phone(browser, live, world.ocu)
    seizure_url = f"{live.url}/operations/{world.operation.code}/seizures/{seizure.client_uuid}/"
    page.goto(seizure_url)
    page.click("#review-heading ~ form button[type=submit]")
    page.wait_for_url(seizure_url)
    flash = page.locator("#flash")
    expect(flash).to_contain_text("validated")
    expect(flash).to_be_in_viewport()
    assert focused_id(page) == "flash"

    # Undo: the button opens its confirmation; a double tap on it undoes once.
    page.click("#undo-review summary")
    page.locator("#undo-review-confirm").dblclick()
    page.wait_for_url(seizure_url)
    expect(page.locator("#flash")).to_contain_text("awaits validation again")
    expect(page.locator("#flash")).to_be_in_viewport()
    page.screenshot(path="/tmp/h2/undo_phone.png")
    assert focused_id(page) == "flash"
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.SUBMITTED
    assert AuditEntry.objects.filter(action=AuditEntry.Action.SEIZURE_REVIEW_UNDONE).count() == 1
    assert page.locator("#review-heading ~ form button[type=submit]").first.is_enabled()

    # The member's open group page heard both, live.
    expect(member.locator("#messages")).to_contain_text("ocu undid the validation")
    expect(member.locator(".seizure-card .seizure-status").first).to_have_text(
        "awaiting validation"
    )


def test_the_undo_asks_before_it_acts_and_fits_a_phone(active, live, browser):
    world = active
    seizure, _created = in_thread(
        seizure_report,
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    in_thread(seizure_validate, seizure=seizure, actor=world.ocu)
    page = coordinator_on_phone(browser, live, world.ocu)
    page.goto(f"{live.url}/operations/{world.operation.code}/seizures/{seizure.client_uuid}/")
    expect(page.locator("#undo-review summary")).to_have_text("Undo the validation")
    expect(page.locator("#undo-review-confirm")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
