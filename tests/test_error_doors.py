"""Refusals reach the reader in their language: the platform's own page for a page,
the JSON error for a script of a page that asked for JSON, and a stale form told to
reload instead of Django's bare CSRF page."""

import json

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation

from cencomm.error_views import server_error
from operations.models import Operation
from operations.services import operation_set_status
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def active(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    return world


def in_french(client):
    client.cookies["django_language"] = "fr"
    return client


def test_an_observer_opening_the_form_by_its_address_is_told_what_they_can_do(active):
    client = in_french(sign_in(Client(), active.observer))
    response = client.get(reverse("operations:seizure_new", kwargs={"code": active.operation.code}))
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in page and 'lang="fr"' in page
    assert 'role="alert"' in page and 'tabindex="-1"' in page
    assert "Les observateurs" in page  # the refusal itself, in French
    assert "ses saisies et son tableau de bord" in page  # what they can still do
    assert reverse("operations:detail", kwargs={"code": active.operation.code}) in page
    assert "Retour à l'opération" in page


def test_a_script_posting_for_an_observer_gets_the_json_refusal_in_their_language(active):
    client = in_french(sign_in(Client(), active.observer))
    response = client.post(
        reverse("operations:seizure_submit", kwargs={"code": active.operation.code}),
        json.dumps({"client_uuid": new_uuid(), "data": seizure_data()}),
        content_type="application/json",
        headers={"accept": "application/json"},
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "forbidden"
    assert error["reason"] == "observer"
    assert error["detail"].startswith("Les observateurs")


def test_a_hidden_group_is_a_json_404_to_a_script_and_the_platforms_page_to_a_browser(active):
    client = in_french(sign_in(Client(), active.outsider))
    url = reverse("operations:dashboard_data", kwargs={"code": active.operation.code})
    script = client.get(url, headers={"accept": "application/json"})
    assert script.status_code == 404
    assert script.json() == {"error": {"code": "not_found", "detail": "Introuvable.", "fields": {}}}
    browser = client.get(url, headers={"accept": "text/html"})
    assert browser.status_code == 404
    assert 'class="topbar"' in browser.content.decode()
    assert "Retour à mes groupes" in browser.content.decode()


def test_a_stale_form_is_told_to_reload_on_the_platforms_page(active):
    client = in_french(sign_in(Client(enforce_csrf_checks=True), active.ocu))
    page_url = reverse("operations:detail", kwargs={"code": active.operation.code})
    response = client.post(reverse("operations:close", kwargs={"code": active.operation.code}))
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in page and 'lang="fr"' in page
    assert "rechargez la page" in page
    assert page_url in page
    assert Operation.objects.get(pk=active.operation.pk).status == Operation.Status.ACTIVE


def test_a_stale_script_gets_a_json_refusal_that_is_not_the_reports_fault(active):
    client = in_french(sign_in(Client(enforce_csrf_checks=True), active.officer_fr))
    response = client.post(
        reverse("operations:seizure_submit", kwargs={"code": active.operation.code}),
        json.dumps({"client_uuid": new_uuid(), "data": seizure_data()}),
        content_type="application/json",
        headers={"accept": "application/json"},
    )
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["reason"] == "csrf"
    assert "rechargez la page" in error["detail"]


def test_a_server_error_answers_a_script_in_json():
    request = RequestFactory().get("/", headers={"accept": "application/json"})
    with translation.override("es"):
        response = server_error(request)
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "error"
