"""Seizures to CEN during the operation: as they are validated, by the same exactly-once path.

A validated seizure is not changed through the services today; a correction after it
reached CEN is written here straight to its row (as a data fix would be), and a
withdrawal from validation likewise: what matters is what the next run does with it.
"""

import csv
import datetime
import io
import subprocess
import sys

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from core.models import AuditEntry
from groups.models import GroupEvent
from operations.cen.models import CenSeizure
from operations.models import Operation, Seizure, TransferRun
from operations.services import (
    operation_set_continuous_transfer,
    operation_set_status,
    seizure_report,
    seizure_validate,
)
from operations.tasks import run_cen_transfer
from operations.transfer import cen_transfer_schedule, cen_transfer_start
from operations.transfer_selectors import report_rows, transfer_summary
from tests.conftest import sign_in
from tests.live import ROOT, server_environment
from tests.operations.conftest import new_uuid, seizure_data

BOTH = ["default", "cen"]
pytestmark = pytest.mark.django_db(databases=BOTH)


def report(world, **overrides) -> Seizure:
    seizure, _created = seizure_report(
        reporter=world.officer_fr,
        operation=world.operation,
        data=seizure_data(**overrides),
        client_uuid=new_uuid(),
    )
    return seizure


def in_cen(code: str = "TEST-2026") -> dict[str, CenSeizure]:
    return {
        str(row.seizure_uuid): row
        for row in CenSeizure.objects.using("cen").filter(operation_code=code)
    }


def transfer_jobs() -> list[DBTaskResult]:
    return list(DBTaskResult.objects.filter(task_path="operations.tasks.run_cen_transfer"))


def run_the_queued_job() -> TransferRun:
    """What the worker does with the queued job, in this process."""
    run = TransferRun.objects.get(state=TransferRun.State.QUEUED)
    run_cen_transfer.call(run.pk)
    run.refresh_from_db()
    return run


@pytest.fixture
def continuous(active_world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        operation_set_continuous_transfer(
            operation=active_world.operation, enabled=True, actor=active_world.ocu
        )
    active_world.operation.refresh_from_db()
    active_world.validate = lambda seizure: _validate(active_world, seizure)
    active_world.capture = django_capture_on_commit_callbacks
    return active_world


def _validate(world, seizure):
    with world.capture(execute=True):
        return seizure_validate(seizure=seizure, actor=world.ocu)


def test_many_validations_queue_one_run_a_short_while_ahead(continuous, settings):
    settings.CEN_CONTINUOUS_DELAY_SECONDS = 30
    seizures = [report(continuous) for _index in range(12)]
    before = timezone.now()
    for seizure in seizures:
        continuous.validate(seizure)
    runs = list(TransferRun.objects.filter(operation=continuous.operation))
    assert len(runs) == 1
    assert (runs[0].state, runs[0].via) == ("queued", TransferRun.Via.CONTINUOUS)
    jobs = transfer_jobs()
    assert len(jobs) == 1 and jobs[0].args_kwargs["args"] == [runs[0].pk]
    assert before + datetime.timedelta(seconds=25) < jobs[0].run_after
    assert jobs[0].run_after < before + datetime.timedelta(seconds=60)
    assert GroupEvent.objects.filter(group=continuous.group, type="transfer.queued").count() == 1


def test_an_operation_that_sends_at_the_end_queues_nothing(
    active_world, django_capture_on_commit_callbacks
):
    seizure = report(active_world)
    with django_capture_on_commit_callbacks(execute=True):
        seizure_validate(seizure=seizure, actor=active_world.ocu)
    assert not TransferRun.objects.exists() and transfer_jobs() == []


def test_the_job_puts_them_in_cen_and_the_operation_stays_active(continuous):
    validated = [continuous.validate(report(continuous)) for _index in range(4)]
    waiting = report(continuous)
    run = run_the_queued_job()
    assert run.state == TransferRun.State.RECONCILED
    assert (run.inserted, run.updated, run.already_present, run.withdrawn) == (4, 0, 0, 0)
    assert set(in_cen()) == {str(seizure.client_uuid) for seizure in validated}
    assert str(waiting.client_uuid) not in in_cen()
    assert Operation.objects.get(pk=continuous.operation.pk).status == "active"
    assert "sent during the operation" in transfer_summary(run)
    # Nothing left to send: no other run is queued.
    assert not TransferRun.objects.filter(state__in=TransferRun.ACTIVE_STATES).exists()


def test_a_correction_after_cen_has_it_is_updated_on_the_next_run(continuous, client):
    first, second = (continuous.validate(report(continuous)) for _index in range(2))
    run_the_queued_job()
    before = in_cen()[str(first.client_uuid)]
    Seizure.objects.filter(pk=first.pk).update(place="Port of Antwerp, berth 12")
    continuous.validate(report(continuous))

    run = run_the_queued_job()
    assert run.state == TransferRun.State.RECONCILED
    assert (run.inserted, run.updated, run.already_present) == (1, 1, 1)
    after = in_cen()[str(first.client_uuid)]
    assert after.place == "Port of Antwerp, berth 12"
    assert after.content_hash != before.content_hash
    assert after.last_changed_at > before.last_changed_at
    assert after.transferred_at == before.transferred_at
    unchanged = in_cen()[str(second.client_uuid)]
    assert unchanged.last_changed_at < after.last_changed_at
    assert run.report["reconciliation"]["ok"] is True

    # The count is in the status JSON, the CSV report and the page.
    sign_in(client, continuous.ocu)
    status = client.get(reverse("operations:transfer_status", kwargs={"code": "TEST-2026"}))
    newest = status.json()["runs"][0]
    assert (newest["updated"], newest["inserted"]) == (1, 1)
    rows = list(
        csv.reader(io.StringIO("\n".join(",".join(map(str, row)) for row in report_rows(run))))
    )
    assert ["Updated", "1"] in rows
    page = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content.decode()
    assert "<td data-updated>1</td>" in page


def test_a_seizure_withdrawn_from_validation_leaves_cen(continuous):
    kept, withdrawn = (continuous.validate(report(continuous)) for _index in range(2))
    run_the_queued_job()
    Seizure.objects.filter(pk=withdrawn.pk).update(
        status="rejected", rejection_reason="Wrong place"
    )
    continuous.validate(report(continuous))
    run = run_the_queued_job()
    assert run.state == TransferRun.State.RECONCILED
    assert run.withdrawn == 1 and run.report["withdrawn"] == [str(withdrawn.client_uuid)]
    assert str(withdrawn.client_uuid) not in in_cen()
    assert str(kept.client_uuid) in in_cen() and len(in_cen()) == 2
    assert ["Withdrawn", "1"] in [[str(cell) for cell in row] for row in report_rows(run)]


def test_the_final_transfer_sends_only_what_is_left_and_marks_the_operation(continuous):
    early = [continuous.validate(report(continuous)) for _index in range(3)]
    run_the_queued_job()
    late = [continuous.validate(report(continuous)) for _index in range(2)]
    queued = TransferRun.objects.get(state="queued")
    operation_set_status(operation=continuous.operation, status="closed", actor=continuous.ocu)
    # The run queued during the operation becomes the final transfer.
    final = cen_transfer_start(operation=continuous.operation, actor=continuous.ocu)
    assert final.pk == queued.pk and final.via == TransferRun.Via.WEB
    run_cen_transfer.call(final.pk)
    final.refresh_from_db()
    assert final.state == TransferRun.State.RECONCILED
    assert (final.inserted, final.updated, final.already_present) == (2, 0, 3)
    delivered = {item["uuid"] for item in final.report["delivered"]["seizures"]}
    assert delivered == {str(seizure.client_uuid) for seizure in late}
    assert set(in_cen()) == {str(seizure.client_uuid) for seizure in early + late}
    assert Operation.objects.get(pk=continuous.operation.pk).status == "transferred"


def test_a_validation_during_a_run_queues_another_when_it_ends(continuous):
    continuous.validate(report(continuous))
    run = TransferRun.objects.get(state="queued")
    # A live worker holds the run: this process.
    from operations.transfer import _worker_id

    TransferRun.objects.filter(pk=run.pk).update(
        state="running", worker=_worker_id(), heartbeat_at=timezone.now()
    )
    late = continuous.validate(report(continuous))
    run.refresh_from_db()
    assert run.rerun_requested and TransferRun.objects.count() == 1
    TransferRun.objects.filter(pk=run.pk).update(state="queued")
    run_cen_transfer.call(run.pk)
    run.refresh_from_db()
    assert run.state == TransferRun.State.RECONCILED
    again = TransferRun.objects.get(state="queued")
    assert again.via == TransferRun.Via.CONTINUOUS and len(transfer_jobs()) == 2
    run_cen_transfer.call(again.pk)
    assert str(late.client_uuid) in in_cen()


def test_switching_on_sends_what_is_already_validated(
    active_world, django_capture_on_commit_callbacks
):
    seizure_validate(seizure=report(active_world), actor=active_world.ocu)
    with django_capture_on_commit_callbacks(execute=True):
        operation_set_continuous_transfer(
            operation=active_world.operation, enabled=True, actor=active_world.ocu
        )
    assert TransferRun.objects.get().via == TransferRun.Via.CONTINUOUS
    event = GroupEvent.objects.filter(group=active_world.group, type="operation.settings").get()
    assert event.data == {"send_to_cen_continuously": True}
    audit = AuditEntry.objects.filter(target="TEST-2026").order_by("-pk").first()
    assert audit.data == {"send_to_cen_continuously": True}


# ---- who may switch it, and what is refused --------------------------------------------------


@pytest.mark.parametrize("actor", ["officer_fr", "observer"])
def test_only_coordinators_switch_it(active_world, actor):
    with pytest.raises(PermissionDenied):
        operation_set_continuous_transfer(
            operation=active_world.operation, enabled=True, actor=getattr(active_world, actor)
        )
    assert not Operation.objects.get(pk=active_world.operation.pk).send_to_cen_continuously


def test_the_page_shows_the_switch_to_coordinators_only(active_world, client):
    url = reverse("operations:detail", kwargs={"code": "TEST-2026"})
    switch = reverse("operations:continuous_transfer", kwargs={"code": "TEST-2026"})
    sign_in(client, active_world.officer_fr)
    assert b"continuous-transfer-form" not in client.get(url).content
    assert client.post(switch, {"send_to_cen_continuously": "true"}).status_code == 403
    client.logout()
    sign_in(client, active_world.ocu)
    assert b"continuous-transfer-form" in client.get(url).content
    assert client.post(switch, {"send_to_cen_continuously": "true"}).status_code == 302
    assert Operation.objects.get(pk=active_world.operation.pk).send_to_cen_continuously
    assert b"within a minute of their validation" in client.get(url).content
    client.post(switch, {"send_to_cen_continuously": "maybe"})
    assert Operation.objects.get(pk=active_world.operation.pk).send_to_cen_continuously


def test_the_creation_form_sets_it(active_world, client):
    sign_in(client, active_world.ocu)
    response = client.post(
        reverse("operations:create"),
        {
            "code": "STORM-2026",
            "name": "Storm",
            "commodity_focus": "drugs",
            "coordinating_administration": active_world.operation.coordinating_administration_id,
            "planned_start": "2026-05-01",
            "planned_end": "2026-05-10",
            "send_to_cen_continuously": "on",
        },
    )
    assert response.status_code == 302
    assert Operation.objects.get(code="STORM-2026").send_to_cen_continuously


def api(user) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def test_the_api_answers_and_updates_it(active_world):
    ocu = api(active_world.ocu)
    assert ocu.get("/api/v1/operations/TEST-2026/").json()["send_to_cen_continuously"] is False
    answer = ocu.patch(
        "/api/v1/operations/TEST-2026/", {"send_to_cen_continuously": True}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["send_to_cen_continuously"] is True
    listed = ocu.get("/api/v1/operations/").json()
    assert listed[0]["send_to_cen_continuously"] is True


@pytest.mark.parametrize("value", ["yes", 1, None, "true"])
def test_the_api_refuses_a_wrong_value(active_world, value):
    answer = api(active_world.ocu).patch(
        "/api/v1/operations/TEST-2026/", {"send_to_cen_continuously": value}, format="json"
    )
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid" and "send_to_cen_continuously" in error["fields"]
    assert error["detail"]


def test_the_api_refuses_a_member_and_a_transferred_operation(active_world):
    member = api(active_world.officer_fr).patch(
        "/api/v1/operations/TEST-2026/", {"send_to_cen_continuously": True}, format="json"
    )
    assert member.status_code == 403 and member.json()["error"]["code"] == "permission_denied"
    Operation.objects.filter(pk=active_world.operation.pk).update(status="transferred")
    refused = api(active_world.ocu).patch(
        "/api/v1/operations/TEST-2026/", {"send_to_cen_continuously": True}, format="json"
    )
    assert refused.status_code == 400
    error = refused.json()["error"]
    assert error["code"] == "invalid"
    assert "final and follow-up transfers" in error["fields"]["send_to_cen_continuously"][0]
    with pytest.raises(ValidationError):
        operation_set_continuous_transfer(
            operation=active_world.operation, enabled=True, actor=active_world.ocu
        )


# ---- the real worker ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_task_worker_sends_them_while_the_operation_stays_active(
    active_world, settings, tmp_path
):
    settings.CEN_CONTINUOUS_DELAY_SECONDS = 0
    operation_set_continuous_transfer(
        operation=active_world.operation, enabled=True, actor=active_world.ocu
    )
    for _index in range(5):
        seizure_validate(seizure=report(active_world), actor=active_world.ocu)
    assert TransferRun.objects.count() == 1
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env=server_environment(0, CENCOMM_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    run = TransferRun.objects.get()
    assert run.state == TransferRun.State.RECONCILED and run.inserted == 5
    assert len(in_cen()) == 5
    assert Operation.objects.get(pk=active_world.operation.pk).status == "active"


def test_a_dead_run_is_queued_again_by_the_next_validation(continuous):
    continuous.validate(report(continuous))
    run = TransferRun.objects.get()
    TransferRun.objects.filter(pk=run.pk).update(
        state="running",
        worker="elsewhere:1",
        heartbeat_at=timezone.now() - datetime.timedelta(hours=1),
    )
    cen_transfer_schedule(operation_id=continuous.operation.pk)
    run.refresh_from_db()
    assert run.state == "queued" and len(transfer_jobs()) == 2
