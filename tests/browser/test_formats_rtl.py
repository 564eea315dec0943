"""Every language reads right: one date format on the server and in the live page, and
charts whose labels stay inside the chart and off the bars, right to left too."""

import datetime
import os

import pytest

from operations.models import Operation
from operations.services import operation_set_status, seizure_report, seizure_validate
from tests.conftest import PASSWORD
from tests.live import in_thread
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
# A folder to keep screenshots in while working on the layout.
SHOTS = os.environ.get("CENCOMM_SCREENSHOTS")


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def report(world, **fields):
    seizure, _created = in_thread(
        seizure_report,
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(**fields),
        client_uuid=new_uuid(),
    )
    return seizure


def open_in(login_page, live, language, viewport, path):
    page = login_page("officer.de", PASSWORD, language=language, viewport=viewport)
    page.goto(f"{live.url}{path}")
    page.select_option("#language-select", language)
    page.click(".language-form button")
    page.wait_for_url(f"{live.url}{path}")
    return page


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_a_server_date_and_a_live_date_read_the_same(active, live, login_page, language):
    world = active
    start = world.operation.planned_start
    page = open_in(login_page, live, language, PHONE, f"/groups/{world.group.slug}/")
    page.locator("#connection[data-state=online]").wait_for()
    server = page.inner_text("#planned-start")
    report(world, seizure_date=start.isoformat(), commodity_description="Live")
    live_date = page.locator(".seizure-card time.seizure-date").first
    live_date.wait_for()
    assert live_date.get_attribute("datetime") == start.isoformat()
    assert live_date.inner_text() == server
    # The month is written out, in the page's language, with Latin digits as the server.
    assert str(start.day) in server and str(start.year) in server
    month = {
        "fr": "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
        "ar": "يناير فبراير مارس أبريل مايو يونيو يوليو أغسطس سبتمبر أكتوبر نوفمبر ديسمبر",
    }
    assert month[language].split()[start.month - 1] in server
    if SHOTS:
        page.screenshot(path=f"{SHOTS}/group-{language}-phone.png", full_page=True)


def chart_geometry(page, chart_id):
    return page.evaluate(
        """(id) => {
          const svg = document.querySelector(`#${id} svg`);
          const box = (e) => { const r = e.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
          return {
            svg: box(svg),
            labels: [...svg.querySelectorAll("text")].map(box),
            bars: [...svg.querySelectorAll("rect")].map(box),
          };
        }""",
        chart_id,
    )


def overlaps(a, b):
    return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and b[1] < a[3] - 0.5


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
@pytest.mark.parametrize("language", ["ar", "fr"])
def test_chart_labels_lie_inside_the_chart_and_off_the_bars(
    active, live, login_page, language, viewport
):
    world = active
    today = datetime.date.today()
    for days, fields in enumerate(
        [
            {"commodity_category": "drugs", "transport_mode": "air"},
            {"commodity_category": "tobacco", "unit": "sticks", "transport_mode": "road"},
            {"commodity_category": "cultural_heritage", "unit": "pieces", "transport_mode": "sea"},
            {"commodity_category": "drugs", "reporting_country": "FR", "transport_mode": "rail"},
        ]
    ):
        seizure = report(
            world, seizure_date=(today - datetime.timedelta(days=days + 1)).isoformat(), **fields
        )
    in_thread(seizure_validate, seizure=seizure, actor=world.ocu)
    page = open_in(
        login_page, live, language, viewport, f"/operations/{world.operation.code}/dashboard/"
    )
    page.locator("#chart-day svg").wait_for()
    page.locator("#chart-category svg").wait_for()
    if SHOTS:
        page.screenshot(
            path=f"{SHOTS}/dashboard-{language}-{viewport['width']}.png", full_page=True
        )
    for chart in ("chart-category", "chart-country", "chart-transport", "chart-day"):
        geometry = chart_geometry(page, chart)
        left, top, right, bottom = geometry["svg"]
        assert geometry["labels"] and geometry["bars"]
        for label in geometry["labels"]:
            assert left - 0.5 <= label[0] and label[2] <= right + 0.5, (
                chart,
                label,
                geometry["svg"],
            )
            assert top - 0.5 <= label[1] and label[3] <= bottom + 0.5, (chart, label)
            for bar in geometry["bars"]:
                assert not overlaps(label, bar), (chart, label, bar)
    # Right to left, the labels of the bars stand right of them.
    category = chart_geometry(page, "chart-category")
    names = category["labels"][0::2]
    if language == "ar":
        assert min(n[0] for n in names) >= max(b[2] for b in category["bars"]) - 0.5
    else:
        assert max(n[2] for n in names) <= min(b[0] for b in category["bars"]) + 0.5
