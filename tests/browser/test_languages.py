"""The six languages in Chromium: French reads French, Arabic really mirrors."""

import pytest
from django.conf import settings

from tests.conftest import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def switch(page, language: str) -> None:
    page.select_option("#language-select", language)
    page.click(".language-form button")
    page.wait_for_load_state("networkidle")


def test_the_arabic_group_page_is_right_to_left_and_mirrored(world, live, login_page, tmp_path):
    page = login_page("officer.fr", PASSWORD)
    page.goto(f"{live.url}/groups/{world.group.slug}/")
    switch(page, "ar")
    page.locator("#connection[data-state=online]").wait_for()
    assert page.get_attribute("html", "dir") == "rtl" and page.get_attribute("html", "lang") == "ar"
    width = page.viewport_size["width"]
    brand = page.locator(".brand").bounding_box()
    assert brand["x"] > width / 2, "the brand sits on the right in a right-to-left page"
    mark = page.locator(".brand-mark").bounding_box()
    assert mark["x"] - brand["x"] < 2, "the name itself still reads CEN-comm, left to right"
    switcher = page.locator(".group-switcher").bounding_box()
    members = page.locator(".members-panel").bounding_box()
    assert switcher["x"] > members["x"], "the group list and the members swap sides"
    send = page.locator("#composer-send").bounding_box()
    body = page.locator("#composer-body").bounding_box()
    assert send["x"] < body["x"] + body["width"] / 2, "the send button moves to the left"
    assert "الرسائل" in page.inner_text("main") or "رسائل" in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "group-ar.png"), full_page=True)
    assert (tmp_path / "group-ar.png").stat().st_size > 10000


@pytest.mark.parametrize("language", [code for code, _name in settings.LANGUAGES if code != "en"])
def test_each_language_translates_the_page(world, live, login_page, language):
    import polib

    from tests.live import ROOT

    catalog = polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))
    expected = catalog.find("My groups").msgstr
    page = login_page("officer.fr", PASSWORD)
    switch(page, language)
    assert page.get_attribute("html", "lang") == language
    assert expected in page.inner_text(".topnav")
