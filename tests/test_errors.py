"""One error model (core/errors.py): each refusal has a stable code, and each door —
REST, JSON views, the websocket, commands — answers it from that one description."""

import uuid

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.http import Http404
from rest_framework.test import APIClient

from core.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    ObserverOnly,
    ReadOnly,
    Unavailable,
    command_error,
    describe,
)
from groups.access import GroupNotFound
from groups.models import ClosedUserGroup
from groups.services import group_set_status
from messaging.models import Message
from messaging.socket_errors import exception_frame
from tests.conftest import api_token


@pytest.mark.parametrize(
    ("error", "status", "code", "reason"),
    [
        (NotFound("gone"), 404, "not_found", ""),
        (GroupNotFound(), 404, "not_found", ""),
        (Http404(), 404, "not_found", ""),
        (Forbidden("no"), 403, "forbidden", ""),
        (PermissionDenied("no"), 403, "forbidden", ""),
        (ReadOnly("closed"), 403, "forbidden", "read_only"),
        (ObserverOnly("reads"), 403, "forbidden", "observer"),
        (Invalid({"quantity": ["Too much."]}), 400, "invalid", ""),
        (ValidationError("bad"), 400, "invalid", ""),
        (Conflict("busy"), 409, "conflict", ""),
        (Unavailable("down"), 503, "unavailable", ""),
    ],
)
def test_every_refusal_is_described_by_its_family_and_kind(error, status, code, reason):
    described = describe(error)
    assert (described.status, described.code, described.reason) == (status, code, reason)


def test_invalid_keeps_its_fields_and_stays_a_django_validation_error():
    error = Invalid({"quantity": ["Too much."], "__all__": ["Check the date."]})
    assert isinstance(error, ValidationError) and isinstance(error, Invalid)
    described = describe(error)
    assert described.fields == {
        "quantity": ["Too much."],
        "non_field_errors": ["Check the date."],
    }
    assert described.detail == "Too much."


def test_a_fault_is_not_a_refusal():
    assert describe(KeyError("x")) is None
    with pytest.raises(KeyError):
        command_error(KeyError("x"))


def test_a_command_answers_a_refusal_with_its_message():
    assert str(command_error(Invalid({"file": ["Not a spreadsheet."]}))) == (
        "file: Not a spreadsheet."
    )
    assert str(command_error(Conflict("A transfer is running."))) == "A transfer is running."


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def post(user, group):
    return client_for(user).post(
        f"/api/v1/groups/{group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": "hi"},
        format="json",
    )


@pytest.mark.django_db
def test_rest_names_the_kind_of_refusal_observer_or_read_only(world):
    observer = post(world.observer, world.group)
    assert observer.status_code == 403
    assert observer.json()["error"]["code"] == "permission_denied"
    assert observer.json()["error"]["reason"] == "observer"
    group_set_status(group=world.group, status=ClosedUserGroup.Status.READ_ONLY)
    closed = post(world.officer_fr, world.group)
    assert closed.status_code == 403
    assert (closed.json()["error"]["code"], closed.json()["error"]["reason"]) == (
        "permission_denied",
        "read_only",
    )
    assert Message.objects.count() == 0


@pytest.mark.django_db
def test_a_refusal_without_a_kind_has_no_reason(world):
    response = client_for(world.officer_fr).post(
        f"/api/v1/groups/{world.group.slug}/messages/",
        {"client_id": str(uuid.uuid4()), "body": ""},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "reason" not in response.json()["error"]


def test_the_socket_names_the_kind_of_refusal_too():
    frame = exception_frame(ReadOnly("closed"), group="op-x", client_id="c1")
    assert frame == {
        "type": "error",
        "code": "forbidden",
        "detail": "closed",
        "reason": "read_only",
        "group": "op-x",
        "client_id": "c1",
    }
    assert "reason" not in exception_frame(Forbidden("no"))
    assert exception_frame(GroupNotFound(), group="x")["code"] == "not_found"


@pytest.mark.django_db
def test_the_import_command_answers_a_non_member_with_a_message(world, tmp_path):
    sheet = tmp_path / "seizures.csv"
    sheet.write_text("seizure_date\n")
    with pytest.raises(CommandError, match="outsider is not a member of"):
        call_command(
            "import_seizures", world.operation.code, str(sheet), "--as", world.outsider.username
        )
