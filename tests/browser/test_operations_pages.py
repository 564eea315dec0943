"""The seizure form offline, and the live dashboard, in Chromium."""

import datetime

import pytest
from playwright.sync_api import expect

from operations.models import Operation, Seizure
from operations.services import operation_set_status, seizure_report, seizure_validate
from tests.conftest import PASSWORD
from tests.live import in_thread
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def fill_seizure(page, description: str, quantity: str) -> None:
    yesterday = (datetime.date.today() - datetime.timedelta(days=1)).isoformat()
    page.fill("#id_seizure_date", yesterday)
    page.fill("#id_place", "Roissy CDG terminal 2E")
    page.select_option("#id_location_type", "airport")
    page.select_option("#id_commodity_category", "drugs")
    page.fill("#id_commodity_description", description)
    page.fill("#id_quantity", quantity)
    page.select_option("#id_unit", "kg")
    page.select_option("#id_transport_mode", "air")
    page.select_option("#id_detection_method", "scanner")
    page.select_option("#id_direction", "import")
    page.select_option("#id_departure_country", "CO")
    page.select_option("#id_destination_country", "FR")


def test_three_seizures_entered_offline_arrive_once_each(active, live, login_page):
    world = active
    page = login_page("officer.fr", PASSWORD)
    form_url = f"{live.url}/operations/{world.operation.code}/seizures/new/"
    page.goto(form_url)
    page.context.set_offline(True)
    for number in range(1, 4):
        fill_seizure(page, f"Cocaine bricks, suitcase {number}", f"{number}.5")
        page.click("#seizure-submit")
        page.locator("#offline-queue:not([hidden])").wait_for()
        page.locator(f"#queue-list li >> nth={number - 1}").wait_for()
    assert "3 seizure(s) waiting to be sent." in page.inner_text("#queue-status")
    assert Seizure.objects.count() == 0
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#offline-queue").wait_for(state="hidden", timeout=20000)
    assert Seizure.objects.filter(operation=world.operation).count() == 3
    assert sorted(Seizure.objects.values_list("commodity_description", flat=True)) == [
        f"Cocaine bricks, suitcase {number}" for number in range(1, 4)
    ]
    page.goto(f"{live.url}/operations/{world.operation.code}/dashboard/")
    page.locator("#stat-total:has-text('3')").wait_for()
    assert page.inner_text("#stat-submitted") == "3"


def test_seizures_typed_offline_after_one_visit_are_each_kept_and_sent_once(
    active, live, login_page
):
    world = active
    page = login_page("officer.fr", PASSWORD)
    form_url = f"{live.url}/operations/{world.operation.code}/seizures/new/"
    # One visit online: the page is kept for offline use from then on.
    page.goto(form_url)
    page.locator("#seizure-form[data-offline-ready=true]").wait_for(timeout=10000)
    page.context.set_offline(True)
    for number in range(1, 4):
        # Each time the page comes from the cache, with the same id the server rendered.
        page.reload()
        assert page.is_visible("#seizure-form")
        if number > 1:
            page.locator(f"#queue-list li >> nth={number - 2}").wait_for()
        fill_seizure(page, f"Kept while offline {number}", str(number))
        page.click("#seizure-submit")
        page.locator(f"#queue-list li >> nth={number - 1}").wait_for()
        assert page.evaluate("document.activeElement.id") == "form-done"
    page.reload()
    # The list is drawn from the on-device queue once the page has loaded it.
    page.locator("#queue-list li >> nth=2").wait_for()
    assert page.locator("#queue-list li").count() == 3
    assert "3 seizure(s) waiting to be sent." in page.inner_text("#queue-status")
    assert Seizure.objects.count() == 0
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#offline-queue").wait_for(state="hidden", timeout=20000)
    seizures = Seizure.objects.filter(operation=world.operation)
    assert sorted(seizures.values_list("commodity_description", flat=True)) == [
        f"Kept while offline {number}" for number in range(1, 4)
    ]
    assert len(set(seizures.values_list("client_uuid", flat=True))) == 3


def test_a_report_after_one_sent_from_the_cached_page_is_not_taken_for_a_duplicate(
    active, live, login_page
):
    world = active
    page = login_page("officer.fr", PASSWORD)
    form_url = f"{live.url}/operations/{world.operation.code}/seizures/new/"
    page.goto(form_url)
    page.locator("#seizure-form[data-offline-ready=true]").wait_for(timeout=10000)
    fill_seizure(page, "Sent online", "1")
    page.click("#seizure-submit")
    page.locator("#form-done:has-text('reported')").wait_for()
    page.context.set_offline(True)
    page.reload()  # the cached copy: the server's id in it is the one just used
    fill_seizure(page, "Typed offline", "2")
    page.click("#seizure-submit")
    page.locator("#queue-list li").first.wait_for()
    page.context.set_offline(False)
    page.evaluate("window.dispatchEvent(new Event('online'))")
    page.locator("#offline-queue").wait_for(state="hidden", timeout=20000)
    assert sorted(
        Seizure.objects.filter(operation=world.operation).values_list(
            "commodity_description", flat=True
        )
    ) == ["Sent online", "Typed offline"]
    assert "Already received" not in page.inner_text("#form-done")


def test_a_double_click_on_report_stores_one_seizure_and_the_confirmation_takes_focus(
    active, live, login_page
):
    world = active
    page = login_page("officer.fr", PASSWORD, viewport={"width": 800, "height": 600})
    page.goto(f"{live.url}/operations/{world.operation.code}/seizures/new/")
    fill_seizure(page, "Tapped twice", "3")
    page.dblclick("#seizure-submit")
    page.locator("#form-done a").wait_for()
    page.wait_for_timeout(500)
    assert Seizure.objects.filter(operation=world.operation).count() == 1
    assert page.evaluate("document.activeElement.id") == "form-done"
    expect(page.locator("#form-done")).to_be_in_viewport()
    expect(page.locator("#seizure-submit")).to_be_enabled()


def test_a_refusal_from_the_server_is_shown_in_view_with_the_focus(active, live, login_page):
    world = active
    page = login_page("officer.fr", PASSWORD, viewport={"width": 800, "height": 600})
    page.goto(f"{live.url}/operations/{world.operation.code}/seizures/new/")
    fill_seizure(page, "Too late", "3")
    in_thread(
        operation_set_status,
        operation=world.operation,
        status=Operation.Status.CLOSED,
        actor=world.ocu,
    )
    page.click("#seizure-submit")
    page.locator("#form-errors:not([hidden])").wait_for()
    assert "closed" in page.inner_text("#form-errors")
    assert page.evaluate("document.activeElement.id") == "form-errors"
    expect(page.locator("#form-errors")).to_be_in_viewport()
    assert Seizure.objects.count() == 0


def test_the_dashboard_updates_live_and_shows_the_database_numbers(
    active, live, login_page, tmp_path
):
    world = active
    page = login_page("officer.de", PASSWORD)
    page.goto(f"{live.url}/operations/{world.operation.code}/dashboard/")
    page.locator("#connection[data-state=online]").wait_for()
    page.locator("#stat-total:has-text('0')").wait_for()
    reports = [
        (
            world.officer_fr,
            {"commodity_category": "drugs", "unit": "kg", "reporting_country": "FR"},
        ),
        (
            world.officer_fr,
            {"commodity_category": "tobacco", "unit": "sticks", "reporting_country": "FR"},
        ),
        (
            world.officer_de,
            {
                "commodity_category": "drugs",
                "unit": "g",
                "reporting_country": "DE",
                "transport_mode": "road",
            },
        ),
    ]
    seizures = [
        in_thread(
            seizure_report,
            reporter=reporter,
            operation=world.operation,
            data=seizure_data(**fields),
            client_uuid=new_uuid(),
        )[0]
        for reporter, fields in reports
    ]
    in_thread(seizure_validate, seizure=seizures[0], actor=world.ocu)
    page.locator("#stat-total:has-text('3')").wait_for(timeout=10000)
    page.locator("#stat-validated:has-text('1')").wait_for(timeout=10000)
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    assert page.inner_text("#stat-submitted") == "2"
    values = page.eval_on_selector_all(
        "#chart-category .chart-value", "nodes => nodes.map(n => [n.dataset.key, n.textContent])"
    )
    assert sorted(values) == [["drugs", "2"], ["tobacco", "1"]]
    countries = page.eval_on_selector_all(
        "#chart-country .chart-value", "nodes => nodes.map(n => [n.dataset.key, n.textContent])"
    )
    assert sorted(countries) == [["DE", "1"], ["FR", "2"]]
    assert "Germany" in page.inner_text("#chart-country") and "France" in page.inner_text(
        "#chart-country"
    )
    transport = dict(
        page.eval_on_selector_all(
            "#chart-transport .chart-value",
            "nodes => nodes.map(n => [n.dataset.key, n.textContent])",
        )
    )
    assert transport == {"air": "2", "road": "1"}
    assert page.locator("#latest li").count() == 3


def test_the_dashboard_reads_in_french(active, live, login_page):
    world = active
    in_thread(
        seizure_report,
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    page = login_page("officer.fr", PASSWORD, language="fr")
    page.goto(f"{live.url}/operations/{world.operation.code}/dashboard/")
    page.select_option("#language-select", "fr")
    page.click(".language-form button")
    page.locator("#stat-total:has-text('1')").wait_for()
    text = page.inner_text("main")
    assert "Par catégorie de marchandise" in text or "catégorie" in text.lower()
