"""Creating an operation never tells anyone that a closed group they cannot see exists."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from core.models import AuditEntry
from groups.models import Administration
from groups.services import group_create
from operations.services import operation_create
from tests.conftest import sign_in

pytestmark = pytest.mark.django_db

UNUSABLE = "This code cannot be used: choose another."
TAKEN = "An operation with this code already exists."


def create(user, code):
    today = datetime.date.today()
    return operation_create(
        code=code,
        name="Another",
        commodity_focus="drugs",
        coordinating_administration=Administration.objects.get(country="BE"),
        planned_start=today,
        planned_end=today + datetime.timedelta(days=9),
        created_by=user,
    )


def refusal(user, code) -> str:
    with pytest.raises(ValidationError) as caught:
        create(user, code)
    return caught.value.message_dict["code"][0]


@pytest.fixture
def stranger(world, make_user):
    """A coordinator of another operation: may create operations, cannot see TEST-2026."""
    user = make_user("other.coordinator", country="JP")
    create(user, "OTHER-2026")
    return user


def test_a_hidden_operations_code_is_refused_like_any_unusable_code(world, stranger):
    assert refusal(stranger, "TEST-2026") == UNUSABLE
    assert refusal(stranger, "test-2026") == UNUSABLE
    assert refusal(stranger, "NEW") == UNUSABLE


def test_a_standing_groups_slug_is_refused_the_same_way(world, stranger):
    group_create(name="Standing liaison", slug="liaison-west", created_by=world.ocu)
    assert refusal(stranger, "LIAISON-WEST") == UNUSABLE


def test_the_refusal_of_a_hidden_code_is_written_for_staff(world, stranger):
    refusal(stranger, "TEST-2026")
    entry = AuditEntry.objects.get(action="operation_code_refused")
    assert entry.actor == stranger and entry.target == "TEST-2026"
    # A reserved code that hides nothing is not worth an audit line.
    refusal(stranger, "NEW")
    assert AuditEntry.objects.filter(action="operation_code_refused").count() == 1


def test_those_who_can_see_the_operation_are_told_it_exists(world):
    assert refusal(world.ocu, "TEST-2026") == TAKEN
    assert refusal(world.staff, "TEST-2026") == TAKEN


def test_the_page_says_nothing_of_the_hidden_operation(world, stranger):
    client = sign_in(Client(), stranger)
    today = datetime.date.today()
    response = client.post(
        reverse("operations:create"),
        {
            "code": "TEST-2026",
            "name": "Probe",
            "commodity_focus": "drugs",
            "coordinating_administration": Administration.objects.get(country="JP").pk,
            "planned_start": today.isoformat(),
            "planned_end": (today + datetime.timedelta(days=3)).isoformat(),
        },
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert UNUSABLE in page and TAKEN not in page


def test_a_badly_formed_code_is_refused_with_its_own_reason(world, stranger):
    message = refusal(stranger, "THUNDER 2026")
    assert message != UNUSABLE and "letters, digits and dashes" in message
