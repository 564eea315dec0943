"""The API docs page, rendered by Chromium under the platform's Content-Security-Policy."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_api_docs_render_redoc_with_no_policy_violation(browser, live):
    context = browser.new_context()
    # Recorded from the first script on: a blocked script or style raises this event.
    context.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation', event =>"
        " window.__violations.push(event.violatedDirective + ' ' + event.blockedURI));"
    )
    page = context.new_page()
    console = []
    page.on("console", lambda message: console.append(message.text))
    outside = []
    page.on(
        "request",
        lambda request: (
            outside.append(request.url)
            if not request.url.startswith((live.url, "data:", "blob:"))
            else None
        ),
    )
    try:
        page.goto(f"{live.url}/api/docs/")
        page.get_by_role("heading", name="CENcomm API").first.wait_for(timeout=15000)
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").first.inner_text().startswith("CENcomm API")
        # Redoc's sidebar always shows the Redocly logo from its CDN; the policy refuses
        # that one image (img-src 'self'), and nothing else: no script, no style.
        logo = "img-src https://cdn.redoc.ly/redoc/logo-mini.svg"
        assert [v for v in page.evaluate("window.__violations") if v != logo] == []
        assert [
            text
            for text in console
            if "Content Security Policy" in text and "logo-mini.svg" not in text
        ] == []
        assert [url for url in outside if not url.endswith("/redoc/logo-mini.svg")] == []
        # The menu lists the operations, the attachment upload among them.
        assert page.get_by_text("Upload one file for a message to come").count() >= 1
    finally:
        context.close()
