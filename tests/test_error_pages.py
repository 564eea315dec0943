"""Every 403, 404 and 500 is a page of the platform, in the user's language, saying what
the user can do."""

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import translation
from django.views.defaults import server_error

from operations.models import Operation
from operations.services import operation_set_status
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db


def test_a_missing_page_is_the_platforms_own_in_the_users_language(world):
    client = sign_in(Client(), world.officer_fr)
    client.cookies["django_language"] = "fr"
    response = client.get("/groups/no-such-group/")
    page = response.content.decode()
    assert response.status_code == 404
    assert 'class="topbar"' in page and 'lang="fr"' in page
    assert "Retour à mes groupes" in page


def test_an_observer_opening_the_form_gets_a_page_that_says_why(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    client = sign_in(Client(), world.observer)
    response = client.get(reverse("operations:seizure_new", kwargs={"code": world.operation.code}))
    page = response.content.decode()
    assert response.status_code == 403
    assert 'class="topbar"' in page
    assert "Observers read the group; they do not post." in page


def test_a_server_error_page_needs_no_request_context():
    request = RequestFactory().get("/")
    with translation.override("es"):
        response = server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert 'class="topbar"' in page and 'lang="es"' in page
