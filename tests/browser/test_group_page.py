"""Two people, two browsers: live delivery, reconnect with catch-up, removal, hostile HTML."""

import pytest

from groups.services import membership_remove
from messaging.models import Message
from messaging.services import message_post
from tests.conftest import PASSWORD
from tests.live import in_thread

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def group_url(live, world) -> str:
    return f"{live.url}/groups/{world.group.slug}/"


def open_group(login_page, live, world, username):
    page = login_page(username, PASSWORD)
    page.goto(group_url(live, world))
    page.wait_for_selector("#connection[data-state=online]")
    return page


def post(page, text: str) -> None:
    page.fill("#composer-body", text)
    page.click("#composer-send")


def message_texts(page) -> list[str]:
    return page.eval_on_selector_all(
        "#messages .message:not(.is-pending) .message-body",
        "nodes => nodes.map(n => n.innerText.trim())",
    )


def test_a_message_posted_by_one_appears_live_for_the_other(world, live, login_page):
    sender = open_group(login_page, live, world, "officer.fr")
    reader = open_group(login_page, live, world, "officer.de")
    post(sender, "Container **MSCU1234567** left Santos, watch it at Le Havre")
    reader.wait_for_selector("#messages .message strong:text('MSCU1234567')")
    assert Message.objects.filter(group=world.group, body__contains="MSCU1234567").count() == 1
    # The sender's own copy is confirmed and shown once.
    sender.wait_for_selector("#messages .message.mine:not(.is-pending) .message-body")
    assert (
        message_texts(sender).count("Container MSCU1234567 left Santos, watch it at Le Havre") == 1
    )


def test_after_a_network_cut_each_missed_message_appears_once_and_in_order(world, live, login_page):
    reader = open_group(login_page, live, world, "officer.de")
    # Close the socket as a dropped connection would, then cut the network: reconnecting
    # (at the earliest 0.25 s later) fails while offline. Closed before the cut, the
    # closing handshake does not wait on a network that no longer answers.
    reader.evaluate("window.cencommSocket.ws.close()")
    reader.context.set_offline(True)
    reader.wait_for_selector("#connection[data-state=offline]")
    for number in range(1, 6):
        in_thread(
            message_post,
            author=world.officer_fr,
            group=world.group,
            body=f"missed message {number}",
            client_id=f"00000000-0000-4000-8000-00000000000{number}",
        )
    reader.context.set_offline(False)
    reader.wait_for_selector("#connection[data-state=online]", timeout=40000)
    reader.locator("#messages .message").nth(4).wait_for(timeout=20000)
    texts = [text for text in message_texts(reader) if text.startswith("missed message")]
    assert texts == [f"missed message {number}" for number in range(1, 6)]


def test_a_removed_member_stops_seeing_new_messages_and_is_told_why(world, live, login_page):
    removed = open_group(login_page, live, world, "officer.de")
    in_thread(membership_remove, group=world.group, user=world.officer_de, removed_by=world.ocu)
    removed.wait_for_selector("#banner:not([hidden])")
    assert "removed from this group" in removed.inner_text("#banner")
    message_post(
        author=world.officer_fr,
        group=world.group,
        body="after the removal",
        client_id="00000000-0000-4000-8000-0000000000aa",
    )
    removed.wait_for_timeout(1500)
    assert "after the removal" not in removed.inner_text("#messages")
    assert removed.is_disabled("#composer-body")


def test_hostile_html_is_shown_as_inert_text(world, live, login_page):
    page = open_group(login_page, live, world, "officer.fr")
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    hostile = [
        "<script>alert('script')</script>",
        "<img src=x onerror=alert('img')>",
        "[click me](javascript:alert('link'))",
        "<svg onload=alert('svg')>",
        '<a href="javascript:alert(1)">x</a>',
    ]
    for text in hostile:
        post(page, text)
    page.locator("#messages .message:not(.is-pending)").nth(len(hostile) - 1).wait_for()
    page.reload()
    page.wait_for_selector("#connection[data-state=online]")
    page.wait_for_timeout(500)
    assert dialogs == []
    assert (
        page.query_selector("#messages script, #messages img, #messages svg, #messages [onerror]")
        is None
    )
    hrefs = page.eval_on_selector_all(
        "#messages a", "links => links.map(a => a.getAttribute('href') || '')"
    )
    assert not any(href.lower().startswith("javascript") for href in hrefs)


def test_what_is_typed_while_a_message_is_being_kept_is_not_wiped(world, live, login_page):
    page = open_group(login_page, live, world, "officer.fr")
    # Send, then type the next message at once, before the outbox has kept the first.
    page.evaluate(
        """() => {
            document.getElementById("composer-body").value = "First, sent";
            document.getElementById("composer-send").click();
            document.getElementById("composer-body").value = "Second, still being typed";
        }"""
    )
    page.locator("#messages .message:not(.is-pending)", has_text="First, sent").wait_for()
    assert page.input_value("#composer-body") == "Second, still being typed"
    post(page, page.input_value("#composer-body"))
    page.locator("#messages .message:not(.is-pending)", has_text="still being typed").wait_for()
    assert message_texts(page)[-2:] == ["First, sent", "Second, still being typed"]


def test_the_author_sees_reads_and_acknowledgements_live(world, live, login_page):
    author = open_group(login_page, live, world, "officer.fr")
    author.select_option("#composer-kind", "alert")
    post(author, "Container MSCU7654321: please confirm you have screened it")
    author.locator("#messages .message.kind-alert:not(.is-pending) .receipts-button").wait_for()
    reader = open_group(login_page, live, world, "officer.de")
    reader.locator("#messages .message.kind-alert .ack-button").click()
    reader.locator("#messages .message.kind-alert .ack-button[disabled]").wait_for()
    button = author.locator("#messages .message.kind-alert .receipts-button")
    button.filter(has_text="acknowledged by 1").wait_for(timeout=10000)
    assert "Read by 1" in button.inner_text()
    button.click()
    dialog = author.locator("#receipts-dialog")
    dialog.wait_for()
    text = dialog.inner_text()
    assert "officer.de" in text
