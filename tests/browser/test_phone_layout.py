"""Every page fits a phone: at 390x844 and at 1280x800, in English and in Arabic (right
to left), no page scrolls sideways, nothing a person must reach is pushed off-screen,
and every touch target is at least 44 px tall (and wide, when it is only an icon).

The pages are the GET routes of the authorization matrix that answer with a page, each
visited by a role that gets it. One browser, one context per role and language; every
failure is collected and reported at once, by page, size, language and element. Set
``CENCOMM_SCREENSHOTS`` to a folder to keep a full-page phone screenshot of each page.
"""

import os
import uuid
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from messaging.services import message_post
from tests.conftest import sign_in
from tests.live import in_thread
from tests.test_authorization_matrix import ROWS, Matrix

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, databases=["default", "cen"]),
]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
LANGUAGES = ("en", "ar")
TOUCH = 44

# Page routes, and the roles that look at them (the matrix gives each of them a 200).
PAGES = {
    "login": ("anonymous",),
    "account_two_factor": ("member",),
    "account_sessions": ("member",),
    "groups:my_groups": ("coordinator",),
    "groups:group": ("member", "coordinator"),
    "groups:members": ("coordinator",),
    "audit": ("staff",),
    "operation_audit": ("coordinator",),
    "operations:list": ("coordinator",),
    "operations:create": ("coordinator",),
    "operations:detail": ("coordinator",),
    "operations:start": ("coordinator",),
    "operations:close": ("coordinator",),
    "operations:reopen": ("coordinator",),
    "operations:transfer_start": ("coordinator",),
    "operations:report": ("coordinator",),
    "cen_analyst": ("analyst",),
    "cen_rilo": ("rilo",),
    "operations:dashboard": ("coordinator",),
    "operations:seizures": ("coordinator",),
    "operations:seizure_new": ("member",),
    "operations:seizures_import": ("member",),
    "operations:seizure": ("coordinator",),
    "operations:seizure_correct": ("member",),
    "search": ("member",),
    "group_search": ("member",),
}
# Pages seen with a query, to show what it adds: the coordinator's search for people.
QUERIES = {
    "groups:members": "?q=customs",
    # Results with a snippet of the wide message, and the filters open.
    "search": "?q=container&kind=text",
    "group_search": "?q=container&author=officer.fr",
}
# GET routes that answer with something other than a page of the platform.
NOT_PAGES = {
    "home": "redirects to the member's groups",
    "login_verify": "redirects without a pending second factor",
    "service_worker": "JavaScript",
    "web_manifest": "JSON",
    "health": "JSON",
    "metrics": "Prometheus text",
    "messaging:history": "JSON",
    "messaging:attachment_download": "a file",
    "messaging:receipts": "JSON",
    "account_device": "JSON",
    "messaging:export": "CSV",
    "operations:transfer_status": "JSON",
    "operations:transfer_report": "CSV",
    "operations:report_pdf": "PDF",
    "cen_analyst_data": "JSON",
    "operations:dashboard_data": "JSON",
    "operations:seizures_template": "a spreadsheet",
    "operations:seizures_export_csv": "CSV",
    "operations:seizures_export_xlsx": "a spreadsheet",
    "api-docs": "Redoc's own page, drawn by Redoc",
}
# The REST API (its routes are named api-…) answers JSON.
REST_PREFIX = "api-"

# Runs in the page: what scrolls sideways, what is out of reach, what is too small.
CHECK = """
(touch) => {
  const width = window.innerWidth;
  const problems = [];
  const name = (el) => {
    let text = el.tagName.toLowerCase();
    if (el.id) text += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim())
      text += '.' + el.className.trim().split(/\\s+/).join('.');
    const label = (el.getAttribute('aria-label') || el.textContent || el.value || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 30);
    return label ? `${text} "${label}"` : text;
  };
  const scrolls = (el) => {
    const style = getComputedStyle(el);
    return ['auto', 'scroll', 'hidden', 'clip'].includes(style.overflowX);
  };
  // Inside a box that scrolls (or clips) sideways of its own, inside the page.
  const held = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrolls(up)) return true;
    }
    return false;
  };
  // The nearest box that clips (overflow hidden) rather than scrolls, if any.
  const clipper = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const overflow = getComputedStyle(up).overflowX;
      if (overflow === 'auto' || overflow === 'scroll') return null;
      if (overflow === 'hidden' || overflow === 'clip') return up;
    }
    return null;
  };
  const shown = (el) => {
    if (!el.getClientRects().length) return false;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden') return false;
    if (el.closest('.visually-hidden, .skip-link, dialog:not([open]), [hidden]')) return false;
    return true;
  };
  if (document.documentElement.scrollWidth > width) {
    problems.push(`the page scrolls sideways: ${document.documentElement.scrollWidth} px wide`);
  }
  const wide = [...document.body.querySelectorAll('*')].filter((el) => {
    if (!shown(el) || held(el)) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && (box.right > width + 1 || box.left < -1);
  });
  const outermost = wide.filter((el) => !wide.includes(el.parentElement));
  for (const el of outermost.slice(0, 6)) {
    const box = el.getBoundingClientRect();
    problems.push(`off-screen: ${name(el)} (${Math.round(box.left)}..${Math.round(box.right)})`);
  }
  const targets = document.querySelectorAll(
    'header a[href], header button, header select, header input:not([type=hidden]), ' +
    'main a[href], main button, main select, main textarea, main input:not([type=hidden])'
  );
  for (const el of targets) {
    if (!shown(el)) continue;
    // Links in running text are exempt, as WCAG exempts them: the sentence sets their size.
    if (el.tagName === 'A' && el.closest('p, .message-body')) continue;
    let box = el.getBoundingClientRect();
    if (el.type === 'checkbox' || el.type === 'radio') {
      const label = el.closest('label') || (el.id && document.querySelector(`label[for="${el.id}"]`));
      if (label) box = label.getBoundingClientRect();
    }
    if (el.closest('nav') && (box.left < -1 || box.right > width + 1)) {
      problems.push(`navigation off-screen: ${name(el)}`);
    }
    const clip = clipper(el);
    if (clip) {
      const edge = clip.getBoundingClientRect();
      if (box.left < edge.left - 1 || box.right > edge.right + 1) {
        problems.push(`cut off by ${name(clip)}: ${name(el)}`);
      }
    }
    const iconOnly = !/\\p{L}/u.test(el.textContent || el.value || '');
    if (box.height < touch - 0.5 || (iconOnly && box.width < touch - 0.5)) {
      problems.push(`too small: ${name(el)} ${Math.round(box.width)}×${Math.round(box.height)}`);
    }
  }
  for (const el of document.querySelectorAll('main *, header *')) {
    if (!shown(el) || getComputedStyle(el).textOverflow !== 'ellipsis') continue;
    if (el.scrollWidth > el.clientWidth + 1) problems.push(`text cut: ${name(el)}`);
  }
  return problems;
}
"""


def test_every_get_route_of_the_matrix_is_a_checked_page_or_named_as_not_one():
    routes = {
        row.name
        for row in ROWS
        if row.method == "get" and (row.name in NOT_PAGES or not row.name.startswith(REST_PREFIX))
    }
    assert sorted(routes - set(PAGES) - set(NOT_PAGES)) == []
    assert sorted((set(PAGES) | set(NOT_PAGES)) - routes) == []
    for route, roles in PAGES.items():
        [row] = [row for row in ROWS if row.method == "get" and row.name == route]
        assert all(row.expect[role] == 200 for role in roles), route


# What officers really post: a long link, a wide code block, a wide table.
WIDE_MESSAGE = (
    "See https://customs.example.org/cases/2026/" + "x" * 120 + "\n\n"
    "```\n" + "CONTAINER MSCU1234567 " * 12 + "\n```\n\n"
    "| " + " | ".join(f"column {n}" for n in range(12)) + " |\n"
    "|" + "---|" * 12 + "\n"
    "| " + " | ".join(f"value {n}" for n in range(12)) + " |\n"
)


def wide_world(world, make_user):
    matrix = Matrix(world, make_user)
    message_post(
        author=world.officer_fr, group=world.group, body=WIDE_MESSAGE, client_id=uuid.uuid4()
    )
    return matrix


def _session_cookies(user, live_url: str) -> list[dict]:
    client = sign_in(Client(), user)
    return [
        {"name": name, "value": morsel.value, "url": live_url}
        for name, morsel in client.cookies.items()
    ]


def _check(page, label: str) -> list[str]:
    page.evaluate("document.fonts.ready")
    return [f"{label}: {problem}" for problem in page.evaluate(CHECK, TOUCH)]


def walk_pages(matrix, live, browser, settings):
    """Open every page of PAGES once per role and language, at phone size; yields the
    Playwright page and where it is ("route as role, language"), or a failure string
    when the page did not answer 200. One context per role and language."""
    roles = sorted({role for page_roles in PAGES.values() for role in page_roles})
    for role in roles:
        user = matrix.users[role]
        cookies = _session_cookies(user, live.url) if user is not None else []
        for language in LANGUAGES:
            context = browser.new_context(locale=language, viewport=PHONE)
            context.add_cookies(
                [
                    *cookies,
                    {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live.url},
                ]
            )
            page = context.new_page()
            for route, page_roles in PAGES.items():
                if role not in page_roles:
                    continue
                [row] = [row for row in ROWS if row.method == "get" and row.name == route]
                url = reverse(
                    route, kwargs={key: getattr(matrix, value) for key, value in row.kwargs.items()}
                )
                page.set_viewport_size(PHONE)
                url += QUERIES.get(route, "")
                response = page.goto(f"{live.url}{url}", wait_until="load")
                where = f"{route} as {role}, {language}"
                if response is None or response.status != 200:
                    yield None, f"{where}: answered {response and response.status}"
                    continue
                assert page.get_attribute("html", "dir") == ("rtl" if language == "ar" else "ltr")
                yield page, where
            context.close()


def test_every_page_fits_a_phone_and_a_desktop_in_english_and_arabic(
    world, make_user, live, browser, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    matrix = in_thread(wide_world, world, make_user)
    screenshots = os.environ.get("CENCOMM_SCREENSHOTS")
    failures: list[str] = []
    for page, where in walk_pages(matrix, live, browser, settings):
        if page is None:
            failures.append(where)
            continue
        failures += _check(page, f"{where}, phone 390×844")
        if screenshots:
            route, role_language = where.split(" as ")
            name = f"{route.replace(':', '-')}-{role_language.replace(', ', '-')}.png"
            page.screenshot(path=str(Path(screenshots) / name), full_page=True)
        page.set_viewport_size(DESKTOP)
        failures += _check(page, f"{where}, desktop 1280×800")
    assert failures == [], "\n".join(failures)
