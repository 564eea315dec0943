"""The transfer panel and the CEN analyst page, in Chromium."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connections
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from operations.models import Operation, TransferRun
from operations.services import operation_set_status, seizure_report, seizure_validate
from operations.transfer import cen_transfer_run
from tests.conftest import PASSWORD
from tests.live import in_thread
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "cen"]),
]


@pytest.fixture
def closed(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    for quantity in ("1.5", "2.5", "3"):
        seizure, _created = seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(quantity=quantity),
            client_uuid=new_uuid(),
        )
        seizure_validate(seizure=seizure, actor=world.ocu)
    operation_set_status(operation=world.operation, status=Operation.Status.CLOSED, actor=world.ocu)
    return world


def run_transfer(run: TransferRun) -> None:
    """The worker's part, from a thread of its own; it also reaches the `cen` database,
    whose connection in that thread is closed here."""

    def work():
        try:
            cen_transfer_run(run=run)
        finally:
            connections["cen"].close()

    in_thread(work)


def coordinator_page(browser, live, user):
    """Log a coordinator in, second factor included (coordinators always have one)."""
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    context = browser.new_context(locale="en", viewport={"width": 1280, "height": 900})
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


def test_the_coordinator_starts_a_transfer_and_watches_it_finish_live(closed, live, browser):
    page = coordinator_page(browser, live, closed.ocu)
    page.goto(f"{live.url}/operations/{closed.operation.code}/")
    page.click("#transfer-start")
    page.click("#confirm-button")
    page.locator("#transfer-history [data-run]").first.wait_for()
    run = TransferRun.objects.get(operation=closed.operation)
    assert run.state == TransferRun.State.QUEUED
    page.locator("#transfer-live [data-transfer-state]").wait_for()
    # The worker's part, done here; the open page learns of it without a reload.
    run_transfer(run)
    page.locator("#transfer-history .badge:has-text('Reconciled')").wait_for(timeout=15000)
    assert page.locator("#transfer-live [data-transfer-state]").count() == 0
    row = page.locator(f"#transfer-history [data-run='{run.pk}']")
    assert "3" in row.inner_text()
    assert row.locator("a", has_text="Report (CSV)").count() == 1
    page.locator("#data-quality").wait_for()
    page.context.close()


def test_the_analyst_sees_charts_of_what_was_transferred(closed, live, login_page, make_user):
    run = TransferRun.objects.create(operation=closed.operation, via="command")
    run_transfer(run)
    analyst = make_user("analyst", country="DE")
    analyst.user_permissions.add(
        Permission.objects.get(content_type__app_label="cen", codename="analyse")
    )
    page = login_page("analyst", PASSWORD)
    page.goto(f"{live.url}/cen/")
    page.locator("[data-chart='by_category'] svg").wait_for()
    assert page.locator("[data-chart='by_category'] .chart-value").first.text_content() == "3"
    assert "TEST-2026" in page.inner_text("#cen-list-heading + .chart table")


def test_close_transfer_late_validation_and_follow_up_on_a_phone(world, live, browser):
    """The whole end of an operation, as a coordinator on a phone lives it."""
    in_thread(
        operation_set_status,
        operation=world.operation,
        status=Operation.Status.ACTIVE,
        actor=world.ocu,
    )
    seizures = [
        in_thread(
            seizure_report,
            reporter=reporter,
            operation=world.operation,
            data=seizure_data(quantity=quantity),
            client_uuid=new_uuid(),
        )[0]
        for reporter, quantity in ((world.officer_fr, "1.5"), (world.officer_de, "2"))
    ]
    in_thread(seizure_validate, seizure=seizures[0], actor=world.ocu)
    late = seizures[1]
    page = coordinator_page(browser, live, world.ocu)
    page.set_viewport_size({"width": 390, "height": 844})
    code = world.operation.code

    # Closing asks first, and says what is still pending, by administration.
    page.goto(f"{live.url}/operations/{code}/")
    page.click("#step-close")
    assert "1 seizure awaits validation" in page.inner_text("#confirm-pending")
    assert "Customs DE" in page.inner_text("#confirm-pending-table")
    assert Operation.objects.get(pk=world.operation.pk).status == "active"
    page.click("#confirm-button")
    page.locator("#step-reopen").wait_for()
    assert Operation.objects.get(pk=world.operation.pk).status == "closed"

    # Transfer, confirmed; the worker's part is done here.
    page.click("#transfer-start")
    assert "They are left behind" in page.inner_text("#confirm-pending")
    page.click("#confirm-button")
    page.locator("#transfer-history [data-run]").first.wait_for()
    run_transfer(TransferRun.objects.get(operation=world.operation))
    page.locator("#transfer-standing:has-text('CEN holds the 1 validated seizure')").wait_for(
        timeout=15000
    )
    assert page.locator("#transfer-start").count() == 0
    assert page.locator("#step-reopen").count() == 0

    # The seizure left behind is validated after the transfer.
    page.goto(f"{live.url}/operations/{code}/seizures/{late.client_uuid}/")
    page.click("button.button-primary:has-text('Validate')")
    page.locator(".badge-seizure-validated").wait_for()
    page.goto(f"{live.url}/operations/{code}/")
    page.locator("#transfer-standing[data-not-in-cen='1']").wait_for()
    assert page.inner_text("#transfer-start") == "Follow-up transfer to CEN"
    # Nothing overflows the phone's width.
    overflowing = page.evaluate(
        "[...document.querySelectorAll('.panel')].filter("
        "e => e.getBoundingClientRect().right > innerWidth).map(e => e.id || e.tagName)"
    )
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, overflowing

    page.click("#transfer-start")
    assert page.inner_text("#confirm-cen [data-not-in-cen]") == "1"
    page.click("#confirm-button")
    follow_up = TransferRun.objects.filter(operation=world.operation).first()
    assert follow_up.state == TransferRun.State.QUEUED
    run_transfer(follow_up)
    page.locator("#transfer-standing:has-text('CEN holds all 2 validated seizures')").wait_for(
        timeout=15000
    )
    follow_up.refresh_from_db()
    assert follow_up.inserted == 1 and follow_up.already_present == 1
    assert page.locator("#transfer-start").count() == 0
    page.context.close()
