import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from core.models import AuditEntry
from groups.models import Role
from groups.services import membership_add, membership_remove
from tests.conftest import PASSWORD, sign_in

pytestmark = pytest.mark.django_db


def test_membership_changes_are_recorded_with_actor_and_target(world, make_user):
    newcomer = make_user("officer.nl", country="NL")
    membership_add(group=world.group, user=newcomer, role=Role.MEMBER, added_by=world.ocu)
    membership_remove(group=world.group, user=newcomer, removed_by=world.ocu)
    entries = list(
        AuditEntry.objects.filter(target="officer.nl")
        .order_by("id")
        .values_list("actor_name", "action")
    )
    assert entries == [("ocu", "member_added"), ("ocu", "member_removed")]


def test_logins_and_failures_are_recorded_without_passwords(client, world):
    client.post(reverse("login"), {"username": "officer.fr", "password": "wrong-guess"})
    client.post(reverse("login"), {"username": "officer.fr", "password": PASSWORD})
    failed = AuditEntry.objects.get(action="login_failed")
    assert failed.target == "officer.fr" and failed.actor is None and failed.ip == "127.0.0.1"
    assert "wrong-guess" not in str(failed.data)
    assert AuditEntry.objects.filter(action="login", actor=world.officer_fr).exists()


def test_the_app_cannot_change_or_delete_an_entry(world):
    entry = AuditEntry.objects.first()
    entry.target = "forged"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        entry.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger is PostgreSQL's")
def test_postgresql_refuses_update_and_delete_even_in_bulk(world):
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.update(target="forged")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEntry.objects.all().delete()
    assert not AuditEntry.objects.filter(target="forged").exists()


def test_coordinators_read_their_operations_trail_and_export_it(client, world):
    sign_in(client, world.ocu)
    url = reverse("operation_audit", kwargs={"code": world.operation.code})
    page = client.get(url)
    assert page.status_code == 200
    assert "officer.de" in page.content.decode()
    export = client.get(url, {"format": "csv"})
    body = b"".join(export.streaming_content).decode()
    assert body.splitlines()[0] == "at,actor,action,group,target,ip,data"
    assert "member_added" in body
    assert AuditEntry.objects.filter(action="audit_exported", actor=world.ocu).exists()


@pytest.mark.parametrize(
    ("user", "status"), [("officer.fr", 403), ("observer", 403), ("outsider", 404)]
)
def test_others_cannot_read_an_operations_trail(client, world, user, status):
    sign_in(client, getattr(world, {"officer.fr": "officer_fr"}.get(user, user)))
    assert (
        client.get(reverse("operation_audit", kwargs={"code": world.operation.code})).status_code
        == status
    )


def test_only_staff_read_the_whole_trail(client, world):
    sign_in(client, world.ocu)
    assert client.get(reverse("audit")).status_code == 403
    sign_in(client, world.staff)
    assert client.get(reverse("audit")).status_code == 200


def test_csv_export_neutralises_formulas(client, world):
    AuditEntry.objects.create(actor_name="=HYPERLINK(1)", action="login_failed", target="@SUM(A1)")
    sign_in(client, world.staff)
    body = b"".join(client.get(reverse("audit"), {"format": "csv"}).streaming_content).decode()
    assert "'=HYPERLINK(1)" in body and "'@SUM(A1)" in body


def test_posts_retractions_seizures_and_status_changes_are_recorded(world):
    import uuid

    from messaging.services import message_post, message_retract
    from operations.services import operation_set_status, seizure_report, seizure_validate
    from tests.operations.conftest import new_uuid, seizure_data

    message, _ = message_post(
        author=world.officer_fr, group=world.group, body="secret cargo AB-1", client_id=uuid.uuid4()
    )
    message_retract(author=world.officer_fr, group=world.group, seq=message.seq)
    operation_set_status(operation=world.operation, status="active", actor=world.ocu)
    seizure, _ = seizure_report(
        reporter=world.officer_de,
        operation=world.operation,
        data=seizure_data(),
        client_uuid=new_uuid(),
    )
    seizure_validate(seizure=seizure, actor=world.ocu)
    actions = list(
        AuditEntry.objects.filter(group=world.group)
        .order_by("id")
        .values_list("actor_name", "action")
    )
    for expected in [
        ("ocu", "operation_created"),
        ("officer.fr", "message_posted"),
        ("officer.fr", "message_retracted"),
        ("ocu", "operation_status"),
        ("officer.de", "seizure_reported"),
        ("ocu", "seizure_validated"),
    ]:
        assert expected in actions
    recorded = list(
        AuditEntry.objects.filter(action="message_posted").values_list("target", "data")
    )
    assert "secret cargo" not in str(recorded)
