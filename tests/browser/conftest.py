import os
import shutil

import pytest

# Playwright's synchronous API keeps an event loop running in this thread; the ORM calls
# the tests make between browser steps are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from tests.live import start_daphne

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def live(django_db_setup, django_db_blocker):
    """One daphne process on the test databases for the whole browser session."""
    with django_db_blocker.unblock():
        server = start_daphne()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    """One Chromium per test module: Playwright's event loop must not outlive the browser
    tests, or later tests that run their own event loop would find it running."""
    from playwright.sync_api import sync_playwright

    if not shutil.which("chromium") and not shutil.os.path.exists(CHROMIUM):
        pytest.fail(
            "Debian's Chromium is missing: the test command installs it with apt-get as root; "
            "elsewhere run: sudo apt-get install chromium"
        )
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def login_page(browser, live):
    """Open a new browser context logged in as a user; closes them all after the test."""
    contexts = []

    def open_as(username: str, password: str, *, language: str = "en", viewport=None):
        context = browser.new_context(
            locale=language, viewport=viewport or {"width": 1280, "height": 900}
        )
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live.url}/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("form button[type=submit].button-primary")
        page.wait_for_url(f"{live.url}/groups/")
        return page

    yield open_as
    for context in contexts:
        context.close()
