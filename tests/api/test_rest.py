import uuid

import pytest
from rest_framework.test import APIClient

from groups.models import Membership
from messaging.models import Message
from operations.models import Seizure
from tests.conftest import api_token
from tests.operations.conftest import seizure_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(world):
    def as_user(user):
        client = APIClient()
        if user is not None:
            client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
        return client

    return as_user


def test_anonymous_requests_are_refused_with_the_error_shape(api, world):
    response = api(None).get("/api/v1/groups/")
    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "detail", "fields"}


def test_my_groups_lists_only_mine_with_my_role(api, world):
    groups = api(world.observer).get("/api/v1/groups/").json()
    assert [(g["slug"], g["role"]) for g in groups] == [(world.group.slug, "observer")]
    assert api(world.outsider).get("/api/v1/groups/").json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/groups/{slug}/",
        "/api/v1/groups/{slug}/members/",
        "/api/v1/groups/{slug}/messages/",
        "/api/v1/operations/{code}/",
        "/api/v1/operations/{code}/seizures/",
    ],
)
def test_non_members_get_404_exactly_like_missing_objects(api, world, path):
    client = api(world.outsider)
    real = client.get(path.format(slug=world.group.slug, code=world.operation.code))
    missing = client.get(path.format(slug="no-such-group", code="NO-SUCH-OP"))
    assert real.status_code == missing.status_code == 404
    assert real.json() == missing.json()


def test_members_post_once_per_client_id(api, world):
    client = api(world.officer_fr)
    payload = {"client_id": str(uuid.uuid4()), "kind": "alert", "body": "Watch flight **AF 401**"}
    first = client.post(f"/api/v1/groups/{world.group.slug}/messages/", payload, format="json")
    again = client.post(f"/api/v1/groups/{world.group.slug}/messages/", payload, format="json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["seq"] == again.json()["seq"]
    assert "<strong>AF 401</strong>" in first.json()["html"]
    assert Message.objects.filter(client_id=payload["client_id"]).count() == 1


def test_messages_are_listed_after_a_seq(api, world):
    client = api(world.officer_fr)
    for number in range(3):
        client.post(
            f"/api/v1/groups/{world.group.slug}/messages/",
            {"client_id": str(uuid.uuid4()), "body": f"note {number}"},
            format="json",
        )
    first_seq = Message.objects.order_by("seq").first().seq
    page = (
        api(world.observer)
        .get(f"/api/v1/groups/{world.group.slug}/messages/?after={first_seq}&limit=1")
        .json()
    )
    assert [m["html"] for m in page["messages"]] == ["<p>note 1</p>\n"]
    assert page["more"] is True


def test_observers_cannot_post_by_the_api(api, world):
    response = api(world.observer).post(
        f"/api/v1/groups/{world.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "hi"},
        format="json",
    )
    assert response.status_code == 403
    assert Message.objects.count() == 0


def test_wrong_enum_gets_a_field_level_error(api, world):
    response = api(world.officer_fr).post(
        f"/api/v1/groups/{world.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "hi", "kind": "shout"},
        format="json",
    )
    assert response.status_code == 400
    assert "kind" in response.json()["error"]["fields"]


def test_members_are_managed_only_by_coordinators(api, world, make_user):
    make_user("officer.nl", country="NL")
    url = f"/api/v1/groups/{world.group.slug}/members/"
    assert (
        api(world.officer_fr).post(url, {"username": "officer.nl"}, format="json").status_code
        == 403
    )
    added = api(world.ocu).post(url, {"username": "officer.nl", "role": "observer"}, format="json")
    assert added.status_code == 201 and added.json()["role"] == "observer"
    changed = api(world.ocu).patch(f"{url}officer.nl/", {"role": "member"}, format="json")
    assert changed.json()["role"] == "member"
    assert api(world.ocu).delete(f"{url}officer.nl/").status_code == 204
    assert not Membership.objects.filter(
        user__username="officer.nl", removed_at__isnull=True
    ).exists()


def test_removing_the_last_coordinator_is_a_clear_400(api, world):
    response = api(world.ocu).delete(f"/api/v1/groups/{world.group.slug}/members/ocu/")
    assert response.status_code == 400
    assert "coordinator" in response.json()["error"]["detail"]


def test_operation_lifecycle_and_seizures_by_the_api(api, world):
    code = world.operation.code
    assert (
        api(world.officer_fr)
        .post(f"/api/v1/operations/{code}/status/", {"status": "active"}, format="json")
        .status_code
        == 403
    )
    assert (
        api(world.ocu)
        .post(f"/api/v1/operations/{code}/status/", {"status": "active"}, format="json")
        .json()["status"]
        == "active"
    )
    data = seizure_data()
    data["client_uuid"] = str(uuid.uuid4())
    data["offenders_count"] = 1
    data["estimated_value"] = None
    reported = api(world.officer_fr).post(
        f"/api/v1/operations/{code}/seizures/", data, format="json"
    )
    assert reported.status_code == 201, reported.json()
    again = api(world.officer_fr).post(f"/api/v1/operations/{code}/seizures/", data, format="json")
    assert again.status_code == 200
    seizure_uuid = reported.json()["uuid"]
    rejected = api(world.ocu).post(
        f"/api/v1/operations/{code}/seizures/{seizure_uuid}/reject/",
        {"reason": "units"},
        format="json",
    )
    assert rejected.json()["status"] == "rejected"
    listed = api(world.observer).get(f"/api/v1/operations/{code}/seizures/?status=rejected").json()
    assert listed["count"] == 1 and listed["results"][0]["rejection_reason"] == "units"
    assert Seizure.objects.count() == 1


def test_seizure_rule_errors_name_the_field(api, world):
    code = world.operation.code
    api(world.ocu).post(f"/api/v1/operations/{code}/status/", {"status": "active"}, format="json")
    data = seizure_data(unit="sticks")
    data["client_uuid"] = str(uuid.uuid4())
    data["offenders_count"] = None
    data["estimated_value"] = None
    response = api(world.officer_fr).post(
        f"/api/v1/operations/{code}/seizures/", data, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["error"]["fields"]) == ["unit"]


def test_the_schema_is_published(api, world):
    response = APIClient().get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    assert "/api/v1/groups/{slug}/messages/" in response.json()["paths"]
