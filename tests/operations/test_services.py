import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import TestCase

from groups.models import ClosedUserGroup, GroupEvent
from messaging.models import Message
from operations.models import Operation, Seizure
from operations.services import (
    operation_mark_transferred,
    operation_set_status,
    seizure_correct,
    seizure_reject,
    seizure_report,
    seizure_validate,
)
from tests.operations.conftest import new_uuid, seizure_data

pytestmark = pytest.mark.django_db


def test_lifecycle_goes_planned_active_closed(world):
    operation_set_status(operation=world.operation, status="active", actor=world.ocu)
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    world.operation.refresh_from_db()
    assert world.operation.status == Operation.Status.CLOSED
    world.group.refresh_from_db()
    assert world.group.status == ClosedUserGroup.Status.READ_ONLY
    assert GroupEvent.objects.filter(group=world.group, type="operation.status").count() == 2


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("planned", "closed"),
        ("planned", "transferred"),
        ("active", "planned"),
        ("active", "transferred"),
    ],
)
def test_illegal_transitions_are_refused_with_a_clear_message(world, start, target):
    Operation.objects.filter(pk=world.operation.pk).update(status=start)
    with pytest.raises(ValidationError) as error:
        operation_set_status(operation=world.operation, status=target, actor=world.ocu)
    assert "cannot become" in str(error.value)
    world.operation.refresh_from_db()
    assert world.operation.status == start


@pytest.mark.parametrize("actor", ["officer_fr", "observer", "outsider"])
def test_only_coordinators_change_the_status(world, actor):
    with pytest.raises(PermissionDenied):
        operation_set_status(
            operation=world.operation, status="active", actor=getattr(world, actor)
        )


def test_staff_may_change_the_status(world):
    operation_set_status(operation=world.operation, status="active", actor=world.staff)
    world.operation.refresh_from_db()
    assert world.operation.status == "active"


def test_transferred_only_from_closed(world):
    with pytest.raises(ValidationError):
        operation_mark_transferred(operation=world.operation)


def test_report_stores_the_seizure_and_its_alert_in_one_event(active_world):
    world = active_world
    seizure, created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    assert created
    assert seizure.status == Seizure.Status.SUBMITTED
    assert seizure.reporting_administration.country == "FR"
    assert seizure.message.kind == Message.Kind.SEIZURE
    event = GroupEvent.objects.get(group=world.group, seq=seizure.message.seq)
    assert event.type == "seizure.reported"
    assert event.data["seizure"]["quantity"] == "12.5"
    assert event.data["seizure"]["commodity_category"] == "drugs"


def test_the_same_uuid_twice_stores_one_seizure(active_world):
    world = active_world
    client_uuid = new_uuid()
    first, created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=client_uuid,
    )
    again, created_again = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=client_uuid,
    )
    assert created and not created_again
    assert first.pk == again.pk
    assert Seizure.objects.count() == 1
    assert Message.objects.filter(kind="seizure").count() == 1


def test_another_user_cannot_reuse_a_uuid(active_world):
    world = active_world
    client_uuid = new_uuid()
    seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=client_uuid,
    )
    with pytest.raises(ValidationError):
        seizure_report(
            reporter=world.officer_de,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=client_uuid,
        )


def test_a_bad_report_writes_nothing(active_world):
    world = active_world
    before = (Seizure.objects.count(), Message.objects.count(), GroupEvent.objects.count())
    with pytest.raises(ValidationError):
        seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(quantity="-1"),
            client_uuid=new_uuid(),
        )
    assert (Seizure.objects.count(), Message.objects.count(), GroupEvent.objects.count()) == before


def test_observers_and_outsiders_cannot_report(active_world):
    world = active_world
    with pytest.raises(PermissionDenied):
        seizure_report(
            reporter=world.observer,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    with pytest.raises(Exception) as error:
        seizure_report(
            reporter=world.outsider,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    assert error.value.__class__.__name__ == "GroupNotFound"
    assert Seizure.objects.count() == 0


def test_a_planned_or_closed_operation_takes_no_seizure(world):
    with pytest.raises(PermissionDenied):
        seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    operation_set_status(operation=world.operation, status="active", actor=world.ocu)
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    world.operation.refresh_from_db()
    with pytest.raises(PermissionDenied):
        seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    assert Seizure.objects.count() == 0


def test_validate_and_reject_are_for_coordinators(active_world):
    world = active_world
    seizure, _ = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    with pytest.raises(PermissionDenied):
        seizure_validate(seizure=seizure, actor=world.officer_de)
    seizure = seizure_validate(seizure=seizure, actor=world.ocu)
    assert seizure.status == Seizure.Status.VALIDATED
    assert seizure.reviewed_by == world.ocu
    with pytest.raises(ValidationError):
        seizure_reject(seizure=seizure, actor=world.ocu, reason="late")
    last = GroupEvent.objects.filter(group=world.group).order_by("-seq").first()
    assert last.type == "seizure.validated"
    assert last.data["reporter"] == "officer.fr"


def test_reject_needs_a_reason_and_the_reporter_corrects(active_world):
    world = active_world
    seizure, _ = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    with pytest.raises(ValidationError):
        seizure_reject(seizure=seizure, actor=world.ocu, reason="  ")
    seizure = seizure_reject(seizure=seizure, actor=world.ocu, reason="Quantity looks like grams")
    assert seizure.status == Seizure.Status.REJECTED
    with pytest.raises(PermissionDenied):
        seizure_correct(
            seizure=seizure, reporter=world.officer_de, data=seizure_data(quantity="12.5")
        )
    seizure = seizure_correct(
        seizure=seizure, reporter=world.officer_fr, data=seizure_data(quantity="12500", unit="g")
    )
    assert seizure.status == Seizure.Status.SUBMITTED
    assert seizure.rejection_reason == ""
    assert seizure.quantity == 12500 and seizure.unit == "g"
    seizure = seizure_validate(seizure=seizure, actor=world.ocu)
    assert seizure.status == Seizure.Status.VALIDATED


def test_report_and_event_are_broadcast_only_after_commit(active_world):
    world = active_world
    with TestCase.captureOnCommitCallbacks(execute=False) as callbacks:
        seizure_report(
            reporter=world.officer_fr,
            operation=world.operation,
            data=seizure_data(),
            client_uuid=new_uuid(),
        )
    assert len(callbacks) == 1
