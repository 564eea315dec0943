import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from tests.conftest import PASSWORD

# seed_demo writes the demo's past seizures into the CEN database too.
pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def test_the_demo_coordinator_logs_in_with_the_printed_code(client, settings, capsys):
    settings.DEBUG = True
    call_command("seed_demo")
    client.post(reverse("login"), {"username": "ocu", "password": settings.DEMO_PASSWORD})
    call_command("demo_totp", "ocu")
    code = capsys.readouterr().out.strip().splitlines()[-1]
    response = client.post(reverse("login_verify"), {"code": code})
    assert response.status_code == 302
    assert client.get(reverse("groups:my_groups")).status_code == 200


def test_demo_totp_refuses_with_debug_off(world, settings):
    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("demo_totp", "ocu")
    assert PASSWORD
