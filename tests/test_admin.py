import pytest
from django.apps import apps
from django.contrib import admin

from tests.conftest import sign_in

pytestmark = pytest.mark.django_db(databases=["default", "cen"])

OWN_APPS = {"cencomm", "groups", "messaging", "operations", "cen"}


def test_every_model_of_the_platform_has_an_admin():
    missing = [
        model._meta.label
        for model in apps.get_models()
        if model._meta.app_label in OWN_APPS and model not in admin.site._registry
    ]
    assert missing == []


def test_every_admin_list_page_opens_for_staff(client, world):
    world.staff.is_superuser = True
    world.staff.save()
    sign_in(client, world.staff)
    for model in admin.site._registry:
        if model._meta.app_label in OWN_APPS:
            url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
            response = client.get(url, {"q": "x"})
            assert response.status_code == 200, url
