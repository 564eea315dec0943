import datetime
import json

import pytest
from django.urls import reverse

from operations.models import Operation, Seizure
from operations.services import seizure_report
from tests.conftest import sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


def login(client, user):
    return sign_in(client, user)


def submit(client, world, payload, **extra):
    return client.post(
        reverse("operations:seizure_submit", kwargs={"code": world.operation.code}),
        data=json.dumps(payload) if not isinstance(payload, bytes) else payload,
        content_type="application/json",
        **extra,
    )


def test_coordinator_creates_an_operation_with_its_group(client, world):
    login(client, world.ocu)
    today = datetime.date.today()
    response = client.post(
        reverse("operations:create"),
        {
            "code": "thunder-2026",
            "name": "Wildlife",
            "commodity_focus": "cites",
            "coordinating_administration": world.ocu.profile.administration.pk,
            "planned_start": today.isoformat(),
            "planned_end": (today + datetime.timedelta(days=30)).isoformat(),
        },
    )
    operation = Operation.objects.get(code="THUNDER-2026")
    assert response.status_code == 302
    assert operation.group.memberships.get(user=world.ocu).role == "coordinator"


def test_members_cannot_create_operations(client, world):
    login(client, world.officer_fr)
    assert client.get(reverse("operations:create")).status_code == 403


def test_create_form_reports_bad_dates_and_creates_nothing(client, world):
    login(client, world.ocu)
    response = client.post(
        reverse("operations:create"),
        {
            "code": "BAD-1",
            "name": "Backwards",
            "commodity_focus": "drugs",
            "coordinating_administration": world.ocu.profile.administration.pk,
            "planned_start": "2026-12-10",
            "planned_end": "2026-12-01",
        },
    )
    assert response.status_code == 400
    assert "cannot end before it starts" in response.content.decode()
    assert not Operation.objects.filter(code="BAD-1").exists()


# A planned operation's page reads what CEN holds for it.
@pytest.mark.django_db(databases=["default", "cen"])
def test_status_buttons_move_the_operation_and_refuse_illegal_moves(client, world):
    login(client, world.ocu)
    url = reverse("operations:status", kwargs={"code": world.operation.code})
    response = client.post(url, {"status": "closed"}, follow=True)
    assert "cannot become closed" in response.content.decode()
    client.post(url, {"status": "active"})
    world.operation.refresh_from_db()
    assert world.operation.status == "active"


def test_members_cannot_press_status_buttons(client, world):
    login(client, world.officer_fr)
    response = client.post(
        reverse("operations:status", kwargs={"code": world.operation.code}), {"status": "active"}
    )
    assert response.status_code == 403
    world.operation.refresh_from_db()
    assert world.operation.status == "planned"


@pytest.mark.parametrize(
    "name", ["detail", "seizures", "seizure_new", "dashboard", "dashboard_data"]
)
def test_outsiders_get_404_on_every_operation_page(client, world, name):
    login(client, world.outsider)
    url = reverse(f"operations:{name}", kwargs={"code": world.operation.code})
    missing = reverse(f"operations:{name}", kwargs={"code": "NOPE-1"})
    assert client.get(url).status_code == client.get(missing).status_code == 404


def test_the_form_page_reports_a_seizure_without_javascript(client, active_world):
    world = active_world
    login(client, world.officer_fr)
    data = seizure_data()
    data["client_uuid"] = new_uuid()
    data["transit_countries"] = ["ES", "PT"]
    response = client.post(
        reverse("operations:seizure_new", kwargs={"code": world.operation.code}), data
    )
    seizure = Seizure.objects.get()
    assert response.status_code == 302
    assert response.url.endswith(f"/seizures/{seizure.client_uuid}/")
    assert seizure.transit_countries == ["ES", "PT"]


def test_the_form_page_shows_field_errors(client, active_world):
    world = active_world
    login(client, world.officer_fr)
    data = seizure_data(quantity="0", unit="sticks")
    data["client_uuid"] = new_uuid()
    response = client.post(
        reverse("operations:seizure_new", kwargs={"code": world.operation.code}), data
    )
    assert response.status_code == 400
    text = response.content.decode()
    assert "more than zero" in text
    assert Seizure.objects.count() == 0


def test_json_door_stores_once_per_uuid(client, active_world):
    world = active_world
    login(client, world.officer_fr)
    payload = {"client_uuid": new_uuid(), "data": seizure_data()}
    first = submit(client, world, payload)
    second = submit(client, world, payload)
    assert first.status_code == 201 and first.json()["status"] == "created"
    assert second.status_code == 200 and second.json()["status"] == "duplicate"
    assert Seizure.objects.count() == 1


@pytest.mark.parametrize(
    "body",
    [
        b"{not json",
        b"[]",
        b'{"client_uuid": "x"}',
        b'{"client_uuid": "not-a-uuid", "data": {}}',
        b"\xff\xfe",
    ],
)
def test_json_door_refuses_bad_input_clearly(client, active_world, body):
    login(client, active_world.officer_fr)
    response = submit(client, active_world, body)
    assert response.status_code == 400
    assert response.json()["error"]["detail"]
    assert Seizure.objects.count() == 0


def test_json_door_names_each_bad_field(client, active_world):
    login(client, active_world.officer_fr)
    response = submit(
        client,
        active_world,
        {"client_uuid": new_uuid(), "data": seizure_data(unit="bushel", hs_code="1")},
    )
    fields = response.json()["error"]["fields"]
    assert set(fields) == {"unit", "hs_code"}


def test_observer_cannot_report_through_the_json_door(client, active_world):
    login(client, active_world.observer)
    response = submit(client, active_world, {"client_uuid": new_uuid(), "data": seizure_data()})
    assert response.status_code == 403
    assert Seizure.objects.count() == 0


def test_coordinator_validates_and_rejects_from_the_record_page(client, active_world):
    world = active_world
    first, _ = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    second, _ = seizure_report(
        reporter=world.officer_de,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    login(client, world.ocu)
    client.post(
        reverse(
            "operations:seizure_validate",
            kwargs={"code": world.operation.code, "uuid": first.client_uuid},
        )
    )
    client.post(
        reverse(
            "operations:seizure_reject",
            kwargs={"code": world.operation.code, "uuid": second.client_uuid},
        ),
        {"reason": "Date is wrong"},
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == ("validated", "rejected")
    assert second.rejection_reason == "Date is wrong"


def test_members_cannot_validate(client, active_world):
    world = active_world
    seizure, _ = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    login(client, world.officer_de)
    response = client.post(
        reverse(
            "operations:seizure_validate",
            kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
        )
    )
    assert response.status_code == 403
    seizure.refresh_from_db()
    assert seizure.status == "submitted"


def test_dashboard_numbers_equal_the_database(client, active_world):
    world = active_world
    for category, unit in [("drugs", "kg"), ("drugs", "g"), ("tobacco", "sticks")]:
        seizure, _ = seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(commodity_category=category, unit=unit),
            client_uuid=new_uuid(),
        )
    login(client, world.ocu)
    from operations.services import seizure_validate

    seizure_validate(seizure=seizure, actor=world.ocu)
    data = client.get(
        reverse("operations:dashboard_data", kwargs={"code": world.operation.code})
    ).json()
    assert data["status"] == {"submitted": 2, "validated": 1, "rejected": 0}
    by_category = {row["key"]: (row["total"], row["validated"]) for row in data["by_category"]}
    assert by_category == {"drugs": (2, 0), "tobacco": (1, 1)}
    assert [row["key"] for row in data["by_country"]] == ["FR"]
    assert data["countries"]["FR"] == "France"
    assert len(data["latest"]) == 3
