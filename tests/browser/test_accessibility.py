"""Every page passes axe-core, and the main actions work from the keyboard.

axe-core (the copy the axe-playwright-python package ships) scans each page of the
authorization matrix that test_phone_layout walks, in English and Arabic, at 390x844
and at 1280x800: one page load per page and language, one scan per size. Every
violation of every page is collected and reported at once, with the elements and what
axe says about them. The keyboard tests post a message and report a seizure with Tab,
Enter and Space only, and check that the focused control shows a focus ring.
"""

import pytest
from axe_playwright_python.sync_playwright import Axe

from messaging.models import Message
from operations.models import Operation, Seizure
from operations.services import operation_set_status
from tests.browser.test_operations_pages import fill_seizure
from tests.browser.test_phone_layout import DESKTOP, PHONE, walk_pages, wide_world
from tests.conftest import PASSWORD
from tests.live import in_thread

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "cen"]),
]

AXE = Axe()
# WCAG 2.1 A and AA, and axe's best practices (landmarks, heading order, one main…).
AXE_OPTIONS = {
    "resultTypes": ["violations"],
    "runOnly": {
        "type": "tag",
        "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"],
    },
}


def settled(page) -> None:
    """Two frames later: what the page redraws after a load or a resize is drawn."""
    page.evaluate("new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)))")


def axe_violations(page, where: str) -> list[str]:
    """axe's violations on the page as it is now, one readable line per element."""
    results = AXE.run(page, options=AXE_OPTIONS).response
    lines = []
    for violation in results["violations"]:
        for node in violation["nodes"]:
            target = " ".join(str(part) for part in node["target"])
            why = "; ".join(
                check["message"] for kind in ("any", "all", "none") for check in node.get(kind, [])
            )
            lines.append(f"{where}: {violation['id']} ({violation['impact']}) {target}: {why}")
    return lines


# Some fifty page loads and a hundred scans: minutes on a busy machine.
@pytest.mark.timeout(1800)
def test_axe_finds_no_violation_on_any_page_in_english_and_arabic_on_a_phone_and_a_desktop(
    world, make_user, live, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    matrix = in_thread(wide_world, world, make_user)
    failures: list[str] = []
    scanned = 0
    for page, where in walk_pages(matrix, live, browser, settings):
        if page is None:
            failures.append(where)
            continue
        page.evaluate("document.fonts.ready")
        settled(page)
        failures += axe_violations(page, f"{where}, phone 390×844")
        page.set_viewport_size(DESKTOP)
        settled(page)
        failures += axe_violations(page, f"{where}, desktop 1280×800")
        page.set_viewport_size(PHONE)
        scanned += 1
    assert scanned > 40
    assert failures == [], "\n".join(failures)


def test_axe_can_fail(live, browser):
    """The scan sees a violation when there is one: an image without a text alternative,
    an input without a label."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(f"{live.url}/login/")
        page.evaluate(
            "document.querySelector('main').insertAdjacentHTML('beforeend',"
            ' \'<img src="/static/favicon.svg"><input type="text">\')'
        )
        found = axe_violations(page, "login")
    finally:
        context.close()
    assert any("image-alt" in line for line in found)
    assert any(" label " in line for line in found)


def tab_to(page, selector: str, *, limit: int = 200) -> None:
    """Press Tab until the focus is on the element; fails if it never gets there."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    pytest.fail(f"Tab never reaches {selector}")


def focus_ring(page) -> str:
    """The focused element's ring as drawn (outline or shadow), or "" when there is none."""
    return page.evaluate(
        """() => {
          const style = getComputedStyle(document.activeElement);
          if (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2) {
            return `outline ${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}`;
          }
          return style.boxShadow !== 'none' ? style.boxShadow : '';
        }"""
    )


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def test_a_message_is_posted_and_the_outbox_opened_from_the_keyboard(active, live, login_page):
    world = active
    page = login_page("officer.fr", PASSWORD)
    page.goto(f"{live.url}/groups/{world.group.slug}/")
    page.wait_for_selector("#connection[data-state=online]")

    tab_to(page, "#composer-body")
    assert focus_ring(page)
    page.keyboard.type("Typed and sent with the keyboard")
    tab_to(page, "#composer-send")
    assert focus_ring(page)
    page.keyboard.press("Enter")
    page.locator(
        "#messages .message:not(.is-pending) .message-body:has-text('Typed and sent with the keyboard')"
    ).wait_for()
    assert Message.objects.filter(author=world.officer_fr).count() == 1

    tab_to(page, "#outbox-indicator")
    assert focus_ring(page)
    page.keyboard.press("Space")
    page.locator("#outbox-dialog[open]").wait_for()
    assert axe_violations(page, "the outbox open") == []
    page.keyboard.press("Escape")
    page.locator("#outbox-dialog").wait_for(state="hidden")


def test_a_seizure_is_reported_from_the_keyboard(active, live, login_page):
    world = active
    page = login_page("officer.fr", PASSWORD)
    page.goto(f"{live.url}/operations/{world.operation.code}/seizures/new/")
    fill_seizure(page, "Reported with the keyboard", "2")
    page.evaluate("document.activeElement.blur()")

    tab_to(page, "#seizure-submit")
    assert focus_ring(page)
    page.keyboard.press("Space")
    page.locator("#form-done:not([hidden])").wait_for()
    [seizure] = Seizure.objects.filter(operation=world.operation)
    assert seizure.commodity_description == "Reported with the keyboard"
