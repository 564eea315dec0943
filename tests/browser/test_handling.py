"""Handling codes on the group page, in two browsers: chosen in the composer, shown as
a banner on every reader's copy, changed and released live."""

import pytest

from messaging.models import Message
from tests.browser.test_group_page import open_group, post

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def banner_of(page, text: str) -> str:
    item = page.locator("#messages .message:not(.is-pending)", has_text=text)
    return item.locator(".handling-banner").inner_text()


def test_a_code_chosen_in_the_composer_shows_live_and_changes_live(world, live, login_page):
    author = open_group(login_page, live, world, "officer.fr")
    reader = open_group(login_page, live, world, "officer.de")
    author.select_option("#composer-handling", "H3")
    author.fill("#composer-conditions", "Not before the arrest")
    author.select_option("#composer-source", "B")
    author.select_option("#composer-information", "2")
    post(author, "Driver known to the Rotterdam team")
    reader.wait_for_selector("#messages .message .handling-H3")
    assert banner_of(reader, "Driver known") == (
        "H3 — other conditions, stated: Not before the arrest · Grading B2"
    )
    stored = Message.objects.get(body="Driver known to the Rotterdam team")
    assert (stored.handling_code, stored.source_grading, stored.information_grading) == (
        "H3",
        "B",
        "2",
    )
    # A reader of another administration may neither change nor release it.
    buttons = reader.locator("#messages .message", has_text="Driver known").locator(
        ".handling-banner button"
    )
    assert buttons.count() == 0

    # The author makes it H2: every copy shows it at once; the author's administration releases it.
    author.locator("#messages .message", has_text="Driver known").get_by_role(
        "button", name="Change the handling code"
    ).click()
    author.select_option("#handling-dialog-handling", "H2")
    author.click("#handling-dialog-save")
    reader.wait_for_selector("#messages .message .handling-H2")
    assert banner_of(reader, "Driver known").startswith(
        "H2 — not to be passed on outside the operation"
    )
    author.locator("#messages .message", has_text="Driver known").get_by_role(
        "button", name="Release for outside the operation"
    ).click()
    reader.wait_for_selector(
        "#messages .message .handling-banner:has-text('released for outside the operation')"
    )
    stored.refresh_from_db()
    assert (stored.handling_code, stored.released_by) == ("H2", world.officer_fr)
