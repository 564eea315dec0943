"""A planned operation's page shows what CEN already holds for its focus and countries."""

import datetime
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from groups.models import Administration
from operations.cen.history_selectors import operation_cen_history, operation_countries
from operations.models import Operation
from operations.services import (
    operation_create,
    operation_set_status,
    seizure_report,
    seizure_validate,
)
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

from .conftest import cen_record

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


@pytest.fixture
def cen_past(world, make_user):
    """CEN holds drug seizures from earlier operations; another operation, still on the
    platform, has a validated drug seizure reported in France that CEN does not hold."""
    cen_record(seizure_date=datetime.date(2023, 3, 1), place="Paris-CDG")
    cen_record(seizure_date=datetime.date(2024, 3, 1), place="Paris-CDG")
    cen_record(
        reporting_country="BR",
        departure_country="BR",
        destination_country="ES",
        place="Santos",
        transport_mode="MARITIME",
        detection_method="DETECTOR_DOG",
        concealment_method=None,
        seizure_date=datetime.date(2024, 7, 1),
    )
    # Outside the picture: another country's route, another commodity.
    cen_record(reporting_country="JP", departure_country="CN", destination_country="JP")
    cen_record(commodity_category="TOBACCO", itr_section="REVENUE")

    other_coordinator = make_user("other.ocu", country="FR")
    today = datetime.date.today()
    other = operation_create(
        code="OTHER-2026",
        name="Another operation",
        commodity_focus="drugs",
        coordinating_administration=Administration.objects.get(country="FR"),
        planned_start=today - datetime.timedelta(days=3),
        planned_end=today + datetime.timedelta(days=3),
        created_by=other_coordinator,
    )
    operation_set_status(operation=other, status=Operation.Status.ACTIVE, actor=other_coordinator)
    seizure, _created = seizure_report(
        reporter=other_coordinator, operation=other, data=seizure_data(), client_uuid=new_uuid()
    )
    seizure_validate(seizure=seizure, actor=other_coordinator)
    return world


def test_the_countries_are_the_members_administrations_and_the_coordinators(cen_past):
    assert operation_countries(operation=cen_past.operation) == ["BE", "DE", "ES", "FR"]


def test_history_counts_only_cen_records_of_the_focus_touching_the_countries(cen_past):
    history = operation_cen_history(operation=cen_past.operation)
    assert history["category"] == "DRUGS"
    assert history["total"] == 3
    assert [(row["key"], row["total"]) for row in history["by_year"]] == [
        ("2023", 1),
        ("2024", 2),
    ]
    assert [(row["key"], row["total"]) for row in history["by_route"]] == [
        ("CO>FR", 2),
        ("BR>ES", 1),
    ]
    assert history["by_route"][0]["label"] == "Colombia → France"
    assert {row["key"]: row["total"] for row in history["by_transport"]} == {
        "AIR": 2,
        "MARITIME": 1,
    }
    assert {row["key"]: row["total"] for row in history["by_detection"]} == {
        "NON_INTRUSIVE_SCANNER": 2,
        "DETECTOR_DOG": 1,
    }
    assert {row["key"]: row["total"] for row in history["by_concealment"]} == {
        "IN_LUGGAGE": 2,
        "": 1,
    }
    assert [(row["label"], row["total"]) for row in history["top_places"]] == [
        ("Paris-CDG (FR)", 2),
        ("Santos (BR)", 1),
    ]


def _panel_data(response) -> dict | None:
    match = re.search(
        r'<script id="cen-history-data" type="application/json">(.*?)</script>',
        response.content.decode(),
        re.S,
    )
    return json.loads(match.group(1)) if match else None


def test_a_member_sees_the_panel_while_the_operation_is_planned(cen_past):
    client = sign_in(Client(), cen_past.observer)
    url = reverse("operations:detail", kwargs={"code": cen_past.operation.code})
    response = client.get(url)
    assert response.status_code == 200
    assert 'id="cen-history"' in response.content.decode()
    data = _panel_data(response)
    assert data["total"] == 3
    assert "OTHER-2026" not in response.content.decode()

    operation_set_status(
        operation=cen_past.operation, status=Operation.Status.ACTIVE, actor=cen_past.ocu
    )
    response = client.get(url)
    assert 'id="cen-history"' not in response.content.decode()
    assert _panel_data(response) is None


def test_an_outsider_gets_the_same_404_and_no_cen_history(cen_past):
    client = sign_in(Client(), cen_past.outsider)
    response = client.get(reverse("operations:detail", kwargs={"code": cen_past.operation.code}))
    assert response.status_code == 404
    assert "cen-history" not in response.content.decode()
