"""A coordinator amends a validated seizure; CEN gets the new version on the next run."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from operations.cen.models import CenSeizure
from operations.models import Operation, Seizure, TransferRun
from operations.services import (
    operation_set_status,
    seizure_report,
    seizure_revise,
    seizure_validate,
)
from operations.transfer import cen_transfer_run, cen_transfer_start
from operations.transfer_selectors import has_something_to_send
from tests.conftest import api_token, sign_in
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db(databases=["default", "cen"])


@pytest.fixture
def transferred(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    seizures = []
    for quantity in ("1.5", "2.5"):
        seizure, _created = seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(quantity=quantity),
            client_uuid=new_uuid(),
        )
        seizures.append(seizure_validate(seizure=seizure, actor=world.ocu))
    operation_set_status(operation=world.operation, status=Operation.Status.CLOSED, actor=world.ocu)
    run = cen_transfer_start(operation=world.operation, actor=world.ocu)
    cen_transfer_run(run=run)
    world.operation.refresh_from_db()
    assert world.operation.status == Operation.Status.TRANSFERRED
    world.seizures = seizures
    return world


def cen_quantity(seizure) -> str:
    record = CenSeizure.objects.using("cen").get(seizure_uuid=seizure.client_uuid)
    return str(record.quantity.normalize())


def test_an_amended_seizure_is_updated_in_cen_by_a_follow_up_transfer(transferred):
    world = transferred
    seizure = world.seizures[0]
    assert cen_quantity(seizure) == "1.5"
    assert not has_something_to_send(operation=world.operation)
    amended = seizure_revise(seizure=seizure, actor=world.ocu, data=seizure_data(quantity="15"))
    assert amended.status == Seizure.Status.VALIDATED
    # CEN holds the old version: a follow-up transfer is offered and sends it.
    assert has_something_to_send(operation=world.operation)
    run = cen_transfer_start(operation=world.operation, actor=world.ocu)
    run = cen_transfer_run(run=run)
    assert run.state == TransferRun.State.RECONCILED
    assert run.updated == 1
    assert cen_quantity(seizure) == "15"
    assert cen_quantity(world.seizures[1]) == "2.5"
    assert not has_something_to_send(operation=world.operation)


def test_only_coordinators_amend_and_only_validated_seizures(transferred, world):
    seizure = world.seizures[0]
    with pytest.raises(PermissionDenied):
        seizure_revise(seizure=seizure, actor=world.officer_fr, data=seizure_data(quantity="3"))
    Seizure.objects.filter(pk=seizure.pk).update(status=Seizure.Status.SUBMITTED)
    pending = Seizure.objects.get(pk=seizure.pk)
    with pytest.raises(ValidationError):
        seizure_revise(seizure=pending, actor=world.ocu, data=seizure_data(quantity="3"))
    assert Seizure.objects.get(pk=seizure.pk).quantity == pending.quantity


def test_a_bad_amendment_changes_nothing(transferred, world):
    seizure = world.seizures[0]
    with pytest.raises(ValidationError):
        seizure_revise(seizure=seizure, actor=world.ocu, data=seizure_data(quantity="-1"))
    assert str(Seizure.objects.get(pk=seizure.pk).quantity.normalize()) == "1.5"


def test_the_page_and_the_api_amend(transferred, world):
    seizure = world.seizures[0]
    client = sign_in(Client(), world.ocu)
    detail = client.get(
        reverse(
            "operations:seizure", kwargs={"code": world.operation.code, "uuid": seizure.client_uuid}
        )
    )
    assert "Amend the validated seizure" in detail.content.decode()
    url = reverse(
        "operations:seizure_correct",
        kwargs={"code": world.operation.code, "uuid": seizure.client_uuid},
    )
    form = {k: v for k, v in seizure_data(quantity="7").items() if k != "transit_countries"}
    response = client.post(url, {**form, "transit_countries": ["ES"]})
    assert response.status_code == 302
    assert str(Seizure.objects.get(pk=seizure.pk).quantity.normalize()) == "7"

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {api_token(world.ocu)}")
    body = {**seizure_data(quantity="8", offenders_count=1, estimated_value=None)}
    answer = api.post(
        f"/api/v1/operations/{world.operation.code}/seizures/{seizure.client_uuid}/revise/",
        body,
        format="json",
    )
    assert answer.status_code == 200, answer.content
    assert Decimal(answer.json()["quantity"]) == Decimal("8")
    assert answer.json()["status"] == "validated"
