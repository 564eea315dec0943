"""The end-of-operation report: its numbers against the database, in three languages,
as a page under the platform's CSP and as a PDF drawn by WeasyPrint."""

import datetime
import io
import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from core.models import AuditEntry
from operations.models import Seizure
from operations.report_pdf import BASE_URL, static_file_for
from operations.services import seizure_reject, seizure_report, seizure_validate
from tests.conftest import api_token, sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db

ARABIC_TITLE = "تقرير العملية"


def _day(days_ago: int) -> str:
    return (datetime.date.today() - datetime.timedelta(days=days_ago)).isoformat()


@pytest.fixture
def reported(active_world):
    """Five seizures: three validated (two French, one German), one awaiting, one rejected."""
    world = active_world

    def report(reporter, **fields):
        seizure, _created = seizure_report(
            reporter=reporter,
            operation=world.operation,
            data=seizure_data(**fields),
            client_uuid=new_uuid(),
        )
        return seizure

    validated = [
        report(world.officer_fr, seizure_date=_day(3)),
        report(world.officer_fr, seizure_date=_day(2), quantity="7.5"),
        report(
            world.officer_de,
            seizure_date=_day(2),
            reporting_country="DE",
            place="Hamburg container terminal",
            location_type="seaport",
            transport_mode="sea",
            commodity_category="tobacco",
            commodity_description="Cigarettes behind a false wall",
            quantity="120000",
            unit="pieces",
            departure_country="CN",
            destination_country="DE",
            transit_countries=[],
        ),
    ]
    for seizure in validated:
        seizure_validate(seizure=seizure, actor=world.ocu)
    report(world.officer_de, reporting_country="DE", place="Frankfurt airport cargo")
    rejected = report(world.officer_fr, place="Marseille-Fos port")
    seizure_reject(seizure=rejected, actor=world.ocu, reason="Duplicate")
    return world


def _pdf(client: Client, code: str) -> PdfReader:
    response = client.get(reverse("operations:report_pdf", kwargs={"code": code}))
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    return PdfReader(io.BytesIO(response.content))


def _text(reader: PdfReader) -> str:
    return re.sub(r"\s+", " ", "\n".join(page.extract_text() for page in reader.pages))


def test_pdf_numbers_match_the_database(reported):
    world = reported
    operation = world.operation
    client = sign_in(Client(), world.ocu)
    text = _text(_pdf(client, operation.code))

    seizures = Seizure.objects.filter(operation=operation)
    assert seizures.count() == 5
    assert f"{seizures.count()} Seizures reported" in text
    validated = seizures.filter(status=Seizure.Status.VALIDATED).count()
    assert f"{validated} Validated" in text
    assert "1 Awaiting validation" in text
    assert "1 Rejected" in text
    # By reporting country, not rejected: France 2 (2 validated), Germany 2 (1 validated).
    france = seizures.filter(reporting_country="FR").exclude(status="rejected")
    assert re.search(
        rf"France {france.count()} {france.filter(status='validated').count()}\b", text
    ), text
    assert re.search(r"Germany 2 1\b", text), text
    # Routes, not rejected: Colombia → France three times (two validated, one awaiting
    # from Germany), China → Germany once.
    route = seizures.filter(departure_country="CO", destination_country="FR").exclude(
        status="rejected"
    )
    assert (route.count(), route.filter(status="validated").count()) == (3, 2)
    assert re.search(r"Colombia → France 3 2\b", text), text
    assert re.search(r"China → Germany 1 1\b", text), text
    # The validated seizures are listed with their place; the rejected one is not.
    assert "Hamburg container terminal" in text
    assert "Paris-Charles de Gaulle airport" in text
    assert "Marseille-Fos port" not in text
    # Quantities of the seizures not rejected: 12.5 + 7.5 + 12.5 kg of drugs.
    assert re.search(r"Drugs 32.5 kg", text), text
    assert "120000" in text
    # Data quality per administration is there, one row per reporting administration.
    assert "Data quality per administration" in text
    assert "Customs DE (DE)" in text


def test_pdf_download_is_audited(reported):
    world = reported
    client = sign_in(Client(), world.staff)
    _pdf(client, world.operation.code)
    entry = AuditEntry.objects.get(action=AuditEntry.Action.REPORT_DOWNLOADED)
    assert entry.actor == world.staff
    assert entry.group_id == world.group.pk
    assert entry.target == world.operation.code


def test_pdf_speaks_the_users_language(reported):
    world = reported
    client = sign_in(Client(), world.ocu)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    reader = _pdf(client, world.operation.code)
    text = _text(reader)
    assert reader.metadata.title == "Rapport d’opération TEST-2026"
    assert "rapport d’opération" in text.casefold()
    assert "Qualité des données par administration" in text
    assert "Itinéraires" in text
    assert "Colombie → France" in text
    assert reader.trailer["/Root"]["/Lang"] == "fr"


def test_pdf_in_arabic_reads_right_to_left(reported):
    world = reported
    client = sign_in(Client(), world.ocu)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    reader = _pdf(client, world.operation.code)
    assert reader.trailer["/Root"]["/Lang"] == "ar"
    # The document's title is stored as text, in logical order.
    assert ARABIC_TITLE in reader.metadata.title
    # The page's text comes out in visual order: check its letters, not their order.
    text = _text(reader)
    assert set(ARABIC_TITLE.replace(" ", "")) <= set(text)
    assert "Hamburg container terminal" in text


def test_report_page_has_the_pdf_link_and_no_inline_style_or_script(reported):
    world = reported
    client = sign_in(Client(), world.ocu)
    response = client.get(reverse("operations:report", kwargs={"code": world.operation.code}))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("operations:report_pdf", kwargs={"code": world.operation.code}) in html
    assert "Hamburg container terminal" in html
    assert "<svg" in html
    assert not re.search(r"<style|\sstyle=|<script(?![^>]*\ssrc=)", html)
    assert "'unsafe-inline'" not in response.get("Content-Security-Policy", "")
    assert "css/report.css" in html
    # The page answers in the user's language too.
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ar"
    html = client.get(
        reverse("operations:report", kwargs={"code": world.operation.code})
    ).content.decode()
    assert 'dir="rtl"' in html
    assert ARABIC_TITLE in html


def test_members_are_refused_and_outsiders_see_no_operation(reported):
    world = reported
    url = reverse("operations:report_pdf", kwargs={"code": world.operation.code})
    assert sign_in(Client(), world.officer_fr).get(url).status_code == 403
    assert sign_in(Client(), world.outsider).get(url).status_code == 404
    missing = reverse("operations:report_pdf", kwargs={"code": "NO-SUCH-OP"})
    assert sign_in(Client(), world.outsider).get(missing).status_code == 404
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.REPORT_DOWNLOADED).exists()


def test_pdf_reads_only_the_platforms_static_files():
    path, content_type = static_file_for(f"{BASE_URL}static/css/report.css")
    assert path.name == "report.css" and content_type == "text/css"
    for url in (
        "https://example.org/static/css/report.css",
        "file:///etc/passwd",
        f"{BASE_URL}media/attachments/x.png",
        f"{BASE_URL}static/../cencomm/settings.py",
        f"{BASE_URL}static/css/../../cencomm/settings.py",
        f"{BASE_URL}static/js/group.js",
    ):
        with pytest.raises(ValueError):
            static_file_for(url)


def test_api_gives_the_pdf_to_token_clients_in_their_language(reported):
    world = reported
    client = Client(HTTP_AUTHORIZATION=f"Token {api_token(world.ocu)}", HTTP_ACCEPT_LANGUAGE="es")
    url = reverse("api-operation-report", kwargs={"code": world.operation.code})
    response = client.get(url)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert reader.trailer["/Root"]["/Lang"] == "es"
    assert "Hamburg container terminal" in _text(reader)
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.REPORT_DOWNLOADED, actor=world.ocu
    ).exists()
    member = Client(HTTP_AUTHORIZATION=f"Token {api_token(world.officer_fr)}")
    assert member.get(url).status_code == 403
