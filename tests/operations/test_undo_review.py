"""A coordinator undoes a validation or a rejection until the seizure reaches CEN."""

import json

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from core.models import AuditEntry
from groups.models import GroupEvent
from operations.cen.models import CenSeizure
from operations.models import Operation, Seizure, TransferRun
from operations.services import (
    operation_set_status,
    seizure_reject,
    seizure_report,
    seizure_review_undo,
    seizure_validate,
)
from operations.transfer import cen_transfer_run, cen_transfer_start
from tests.conftest import api_token, sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


def reported(world) -> Seizure:
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    return seizure


def undo_url(world, seizure, *, api=False) -> str:
    if api:
        return (
            f"/api/v1/operations/{world.operation.code}/seizures/{seizure.client_uuid}/undo-review/"
        )
    return reverse(
        "operations:seizure_undo_review",
        kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
    )


@pytest.mark.parametrize("review", ["validated", "rejected"])
def test_undoing_a_review_returns_the_seizure_to_awaiting_validation(
    active_world, review, captured_events, django_capture_on_commit_callbacks
):
    world = active_world
    seizure = reported(world)
    if review == "validated":
        seizure_validate(seizure=seizure, actor=world.ocu)
    else:
        seizure_reject(seizure=seizure, actor=world.ocu, reason="Wrong unit")
    captured_events.clear()

    with django_capture_on_commit_callbacks(execute=True):
        undone = seizure_review_undo(seizure=seizure, actor=world.ocu)

    stored = Seizure.objects.get(pk=seizure.pk)
    assert undone.status == stored.status == Seizure.Status.SUBMITTED
    assert stored.rejection_reason == ""
    assert stored.reviewed_by is None and stored.reviewed_at is None
    event = GroupEvent.objects.filter(group=world.group).order_by("-seq").first()
    assert event.type == "seizure.review_undone"
    assert event.data["undone"] == review
    assert event.data["status"] == "submitted"
    assert event.data["by"] == "ocu"
    assert event.data["reporter"] == "officer.fr"
    assert event.data["message_seq"] == seizure.message.seq
    assert event.data["seizure"]["status"] == "submitted"
    # Live to the group: exactly this one event left the transaction.
    frames = [
        json.loads(message["text"]) for channel, message in captured_events if channel is None
    ]
    assert [frame["event"] for frame in frames] == ["seizure.review_undone"]
    audit = AuditEntry.objects.filter(action=AuditEntry.Action.SEIZURE_REVIEW_UNDONE).get()
    assert audit.actor == world.ocu
    assert audit.target == str(seizure.client_uuid)
    assert audit.data == {"undone": review}
    # And it can be reviewed again.
    assert seizure_validate(seizure=stored, actor=world.ocu).status == Seizure.Status.VALIDATED


@pytest.mark.parametrize("actor", ["officer_fr", "officer_de", "observer"])
def test_only_coordinators_undo_a_review(active_world, actor):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    with pytest.raises(PermissionDenied) as error:
        seizure_review_undo(seizure=seizure, actor=getattr(world, actor))
    assert "coordinators" in str(error.value)
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.VALIDATED
    assert not AuditEntry.objects.filter(action=AuditEntry.Action.SEIZURE_REVIEW_UNDONE).exists()


def test_staff_may_undo_a_review(active_world):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    assert seizure_review_undo(seizure=seizure, actor=world.staff).status == "submitted"


def test_a_seizure_awaiting_validation_has_no_review_to_undo(active_world):
    world = active_world
    seizure = reported(world)
    head = world.group.__class__.objects.get(pk=world.group.pk).last_seq
    with pytest.raises(ValidationError) as error:
        seizure_review_undo(seizure=seizure, actor=world.ocu)
    assert "awaits validation" in " ".join(error.value.messages)
    assert world.group.__class__.objects.get(pk=world.group.pk).last_seq == head


def test_a_seizure_that_reached_cen_keeps_its_validation(active_world):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    operation_set_status(operation=world.operation, status=Operation.Status.CLOSED, actor=world.ocu)
    run = cen_transfer_run(run=cen_transfer_start(operation=world.operation, actor=world.ocu))
    assert run.state == TransferRun.State.RECONCILED
    assert CenSeizure.objects.using("cen").filter(seizure_uuid=seizure.client_uuid).exists()
    with pytest.raises(ValidationError) as error:
        seizure_review_undo(seizure=seizure, actor=world.ocu)
    assert "reached CEN" in " ".join(error.value.messages)
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.VALIDATED
    # The page no longer offers it, and the page's door refuses with the reason.
    client = sign_in(Client(), world.ocu)
    detail = client.get(
        reverse(
            "operations:seizure", kwargs={"code": world.operation.code, "uuid": seizure.client_uuid}
        )
    ).content.decode()
    assert "Undo the validation" not in detail
    answer = client.post(undo_url(world, seizure), follow=True)
    assert "reached CEN" in answer.content.decode()
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.VALIDATED


def test_a_closed_operation_not_yet_transferred_still_undoes(active_world):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    operation_set_status(operation=world.operation, status=Operation.Status.CLOSED, actor=world.ocu)
    assert seizure_review_undo(seizure=seizure, actor=world.ocu).status == "submitted"


def test_no_validation_is_undone_while_a_transfer_is_sending(active_world):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    TransferRun.objects.create(
        operation=world.operation, via=TransferRun.Via.CONTINUOUS, state=TransferRun.State.RUNNING
    )
    with pytest.raises(ValidationError) as error:
        seizure_review_undo(seizure=seizure, actor=world.ocu)
    assert "under way" in " ".join(error.value.messages)
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.VALIDATED


def test_the_page_offers_the_undo_and_does_it(active_world):
    world = active_world
    seizure = seizure_reject(seizure=reported(world), actor=world.ocu, reason="Wrong unit")
    client = sign_in(Client(), world.ocu)
    page = reverse(
        "operations:seizure", kwargs={"code": world.operation.code, "uuid": seizure.client_uuid}
    )
    body = client.get(page).content.decode()
    assert "Undo the rejection" in body
    assert undo_url(world, seizure) in body
    answer = client.post(undo_url(world, seizure))
    assert answer.status_code == 302 and answer["Location"] == page
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.SUBMITTED
    # A member sees no such button.
    member = sign_in(Client(), world.officer_de)
    assert "undo-review" not in member.get(page).content.decode()


def test_the_page_answers_in_the_users_language(active_world):
    world = active_world
    seizure = reported(world)
    client = sign_in(Client(), world.ocu)
    client.cookies["django_language"] = "fr"
    answer = client.post(undo_url(world, seizure), follow=True)
    assert "a un examen à annuler" in answer.content.decode()


def test_the_api_undoes_and_refuses_with_the_reason(active_world):
    world = active_world
    seizure = seizure_validate(seizure=reported(world), actor=world.ocu)
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.ocu)}")
    answer = api.post(undo_url(world, seizure, api=True))
    assert answer.status_code == 200, answer.content
    assert answer.json()["status"] == "submitted"
    again = api.post(undo_url(world, seizure, api=True))
    assert again.status_code == 400
    assert again.json()["error"]["code"] == "invalid"
    assert "awaits validation" in json.dumps(again.json()["error"]["fields"])
    member = APIClient()
    member.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.officer_fr)}")
    seizure_validate(seizure=seizure, actor=world.ocu)
    refused = member.post(undo_url(world, seizure, api=True))
    assert refused.status_code == 403
    assert Seizure.objects.get(pk=seizure.pk).status == Seizure.Status.VALIDATED
