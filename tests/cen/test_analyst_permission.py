"""The permission docs/deploy.md names is the one that opens the CEN analyst page."""

import re
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db(databases=["default", "cen"])

DEPLOY = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def _documented_permission() -> Permission:
    """The permission docs/deploy.md tells staff to give, as the admin names it."""
    match = re.search(r"`cen \| CEN seizure \| ([^`]+)`", DEPLOY.read_text())
    assert match, "docs/deploy.md names no CEN permission"
    return Permission.objects.get(content_type__app_label="cen", name=match.group(1))


def test_the_documented_permission_opens_the_analyst_page(make_user):
    analyst = make_user("analyst", country="DE")
    analyst.user_permissions.add(_documented_permission())
    client = sign_in(Client(), analyst)
    assert client.get(reverse("cen_analyst")).status_code == 200
    assert client.get(reverse("cen_analyst_data")).status_code == 200


def test_without_it_the_analyst_page_is_refused(make_user):
    viewer = make_user("viewer", country="DE")
    # Every other CEN permission, the admin's "view" included, opens nothing.
    viewer.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="cen").exclude(
            pk=_documented_permission().pk
        )
    )
    client = sign_in(Client(), viewer)
    assert client.get(reverse("cen_analyst")).status_code == 403
    assert client.get(reverse("cen_analyst_data")).status_code == 403
