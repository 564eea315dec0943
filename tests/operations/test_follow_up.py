"""A whole operation as its users live it: deliberate steps, nothing stranded.

Closing and transferring state what is pending; a closed operation is reopened before
any transfer; seizures left behind are still reviewed and corrected after the transfer,
and a follow-up transfer sends them, exactly once, by the same path as the first.
"""

import datetime
import os
import signal
import subprocess
import sys
import time

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import AuditEntry
from groups.models import ClosedUserGroup, GroupEvent
from operations.cen.models import CenSeizure
from operations.models import Operation, Seizure, TransferRun
from operations.services import (
    operation_reopen,
    operation_set_status,
    seizure_correct,
    seizure_reject,
    seizure_report,
    seizure_validate,
)
from operations.transfer import cen_transfer_run, cen_transfer_start
from operations.transfer_selectors import cen_standing, report_rows
from tests.conftest import sign_in
from tests.live import ROOT, server_environment
from tests.operations.conftest import new_uuid, seizure_data

BOTH = ["default", "cen"]
pytestmark = pytest.mark.django_db(databases=BOTH)


def report(world, reporter=None, **overrides) -> Seizure:
    seizure, _created = seizure_report(
        reporter=reporter or world.officer_fr,
        operation=world.operation,
        data=seizure_data(**overrides),
        client_uuid=new_uuid(),
    )
    return seizure


def in_cen(code: str) -> list[str]:
    return sorted(
        str(key)
        for key in CenSeizure.objects.using("cen")
        .filter(operation_code=code)
        .values_list("seizure_uuid", flat=True)
    )


def transfer(world) -> TransferRun:
    """The button's way: queue the run, then the worker's part."""
    run = cen_transfer_start(operation=world.operation, actor=world.ocu)
    return cen_transfer_run(run=run, batch_size=2)


@pytest.fixture
def reported(active_world):
    """Three validated, one awaiting validation (DE), one rejected (FR)."""
    world = active_world
    world.validated = [seizure_validate(seizure=report(world), actor=world.ocu) for _ in range(3)]
    world.waiting = report(world, reporter=world.officer_de)
    world.rejected = seizure_reject(
        seizure=report(world), actor=world.ocu, reason="Remove the passenger's name"
    )
    return world


# ---- the whole walk ---------------------------------------------------------------------


def test_seizures_left_behind_reach_cen_in_a_follow_up_transfer_exactly_once(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    first = transfer(world)
    assert first.state == TransferRun.State.RECONCILED
    assert first.left_behind == 2
    assert first.report["delivered"]["count"] == 3
    world.operation.refresh_from_db()
    assert world.operation.status == Operation.Status.TRANSFERRED
    assert cen_standing(operation=world.operation)["all_in_cen"] is True

    # After the transfer: the coordinator validates one; the officer corrects the other,
    # which the coordinator then validates.
    late = seizure_validate(seizure=world.waiting, actor=world.ocu)
    corrected = seizure_correct(
        seizure=world.rejected,
        reporter=world.officer_fr,
        data=seizure_data(place="Paris-Charles de Gaulle airport, terminal 2"),
    )
    assert corrected.status == Seizure.Status.SUBMITTED
    corrected = seizure_validate(seizure=corrected, actor=world.ocu)
    standing = cen_standing(operation=world.operation)
    assert standing == {
        "validated": 5,
        "in_cen": 3,
        "validated_not_in_cen": 2,
        "all_in_cen": False,
    }

    second = transfer(world)
    assert second.state == TransferRun.State.RECONCILED
    assert (second.validated, second.inserted, second.already_present) == (5, 2, 3)
    assert second.left_behind == 0
    new = sorted([str(late.client_uuid), str(corrected.client_uuid)])
    assert sorted(item["uuid"] for item in second.report["delivered"]["seizures"]) == new
    assert second.report["previously_transferred"] is True
    everything = sorted(str(s.client_uuid) for s in Seizure.objects.filter(status="validated"))
    assert in_cen("TEST-2026") == everything and len(everything) == 5
    assert cen_standing(operation=world.operation)["all_in_cen"] is True
    second.operation = world.operation
    rows = list(report_rows(second))
    sent_section = rows.index(["Sent to CEN by this run"])
    listed = {row[0] for row in rows[sent_section + 2 : rows.index([], sent_section)]}
    assert listed == set(new)
    assert "follow-up transfer reconciled" in rows[1][1]
    assert CenSeizure.objects.using("cen").filter(place__contains="terminal 2").count() == 1


def test_a_follow_up_with_nothing_new_is_refused_and_nothing_is_queued(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    with pytest.raises(ValidationError, match="nothing to transfer"):
        cen_transfer_start(operation=world.operation, actor=world.ocu)
    assert TransferRun.objects.count() == 1


def test_a_second_start_while_a_follow_up_runs_is_refused(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    seizure_validate(seizure=world.waiting, actor=world.ocu)
    cen_transfer_start(operation=world.operation, actor=world.ocu)
    with pytest.raises(ValidationError, match="already queued or running"):
        cen_transfer_start(operation=world.operation, actor=world.ocu)
    assert TransferRun.objects.filter(state="queued").count() == 1


def test_a_transfer_of_an_active_operation_is_refused(reported):
    with pytest.raises(ValidationError, match="close it before"):
        cen_transfer_start(operation=reported.operation, actor=reported.ocu)
    assert not TransferRun.objects.exists()


def test_validating_what_is_not_pending_after_the_transfer_is_refused(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    with pytest.raises(ValidationError, match="Only a submitted seizure"):
        seizure_validate(seizure=world.validated[0], actor=world.ocu)


def test_a_rejected_seizure_is_corrected_in_a_closed_read_only_group(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    world.group.refresh_from_db()
    assert world.group.status == ClosedUserGroup.Status.READ_ONLY
    with pytest.raises(PermissionDenied):
        seizure_correct(seizure=world.rejected, reporter=world.officer_de, data=seizure_data())
    seizure = seizure_correct(
        seizure=world.rejected, reporter=world.officer_fr, data=seizure_data()
    )
    assert seizure.status == Seizure.Status.SUBMITTED
    assert GroupEvent.objects.filter(group=world.group, type="seizure.corrected").exists()
    # New reports stay refused in the closed operation.
    with pytest.raises(PermissionDenied):
        report(world)


# ---- reopening ----------------------------------------------------------------------------


def test_a_closed_operation_is_reopened_audited_and_announced(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    operation = operation_reopen(operation=world.operation, actor=world.ocu)
    assert operation.status == Operation.Status.ACTIVE
    world.group.refresh_from_db()
    assert world.group.status == ClosedUserGroup.Status.OPEN
    last = GroupEvent.objects.filter(group=world.group, type="operation.status").last()
    assert last.data == {"status": "active", "reopened": True}
    entry = AuditEntry.objects.filter(action="operation_status").first()
    assert entry.data == {"status": "active", "reopened": True} and entry.actor == world.ocu
    report(world)  # the group is writable again


def test_a_transferred_operation_is_not_reopened(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    with pytest.raises(ValidationError, match="Only a closed operation is reopened"):
        operation_reopen(operation=world.operation, actor=world.ocu)


def test_a_closed_operation_with_a_transfer_under_way_is_not_reopened(reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    cen_transfer_start(operation=world.operation, actor=world.ocu)
    with pytest.raises(ValidationError, match="under way"):
        operation_reopen(operation=world.operation, actor=world.ocu)
    world.operation.refresh_from_db()
    assert world.operation.status == "closed"


@pytest.mark.parametrize("actor", ["officer_fr", "observer"])
def test_only_coordinators_reopen(reported, actor):
    operation_set_status(operation=reported.operation, status="closed", actor=reported.ocu)
    with pytest.raises(PermissionDenied):
        operation_reopen(operation=reported.operation, actor=getattr(reported, actor))


# ---- the pages ------------------------------------------------------------------------------


def test_closing_asks_for_confirmation_stating_what_is_pending(client, reported):
    world = reported
    sign_in(client, world.ocu)
    detail = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content
    close_url = reverse("operations:close", kwargs={"code": "TEST-2026"})
    assert f'href="{close_url}"'.encode() in detail
    page = client.get(close_url).content.decode()
    assert "1 seizure awaits validation" in page
    assert "1 rejected seizure awaits correction" in page
    assert "Customs DE (DE)" in page and "Customs FR (FR)" in page
    assert 'id="confirm-form"' in page
    world.operation.refresh_from_db()
    assert world.operation.status == "active"
    response = client.post(close_url, follow=True)
    assert "The operation is closed" in response.content.decode()
    world.operation.refresh_from_db()
    assert world.operation.status == "closed"


def test_the_reopen_page_reopens_and_disappears_after_the_transfer(client, reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    sign_in(client, world.ocu)
    reopen_url = reverse("operations:reopen", kwargs={"code": "TEST-2026"})
    detail_url = reverse("operations:detail", kwargs={"code": "TEST-2026"})
    assert reopen_url.encode() in client.get(detail_url).content
    client.post(reopen_url)
    world.operation.refresh_from_db()
    assert world.operation.status == "active"
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    assert reopen_url.encode() not in client.get(detail_url).content
    page = client.get(reopen_url).content.decode()
    assert 'id="confirm-impossible"' in page and 'id="confirm-form"' not in page


def test_the_transfer_confirmation_and_the_follow_up_on_the_page(client, reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    sign_in(client, world.ocu)
    url = reverse("operations:transfer_start", kwargs={"code": "TEST-2026"})
    page = client.get(url).content.decode()
    assert "They are left behind" in page and 'id="confirm-form"' in page
    assert not TransferRun.objects.exists()
    client.post(url)
    run = TransferRun.objects.get()
    cen_transfer_run(run=run)
    detail = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content
    assert b"CEN holds all 3 validated seizures of this operation." in detail
    assert b'id="transfer-start"' not in detail

    # The late validation, on the seizure page after the transfer.
    seizure_url = reverse(
        "operations:seizure", kwargs={"code": "TEST-2026", "uuid": world.waiting.client_uuid}
    )
    assert b"Validate" in client.get(seizure_url).content
    client.post(
        reverse(
            "operations:seizure_validate",
            kwargs={"code": "TEST-2026", "uuid": world.waiting.client_uuid},
        )
    )
    detail = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content
    assert b"1 validated seizure is not in CEN yet" in detail
    assert b'data-not-in-cen="1"' in detail
    assert b"Follow-up transfer to CEN" in detail
    status = client.get(reverse("operations:transfer_status", kwargs={"code": "TEST-2026"})).json()
    assert status["validated_not_in_cen"] == 1 and status["can_start"] is True
    client.post(url)
    follow_up = TransferRun.objects.filter(state="queued").get()
    assert cen_transfer_run(run=follow_up).inserted == 1


def test_the_reporter_corrects_on_the_page_after_the_transfer(client, reported):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    transfer(world)
    sign_in(client, world.officer_fr)
    uuid = world.rejected.client_uuid
    page = client.get(reverse("operations:seizure", kwargs={"code": "TEST-2026", "uuid": uuid}))
    assert b"Correct the seizure" in page.content
    client.post(
        reverse("operations:seizure_correct", kwargs={"code": "TEST-2026", "uuid": uuid}),
        {**seizure_data(place="Roissy cargo"), "transit_countries": ["ES"]},
    )
    assert Seizure.objects.get(client_uuid=uuid).status == Seizure.Status.SUBMITTED


# ---- waiting for a worker --------------------------------------------------------------------


def test_a_queued_run_no_worker_picks_up_says_it_waits_for_a_worker(client, reported, settings):
    world = reported
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    run = cen_transfer_start(operation=world.operation, actor=world.ocu)
    sign_in(client, world.ocu)
    status_url = reverse("operations:transfer_status", kwargs={"code": "TEST-2026"})
    assert client.get(status_url).json()["waiting_for_worker"] is False
    settings.CEN_TRANSFER_PICKUP_SECONDS = 15
    TransferRun.objects.filter(pk=run.pk).update(
        queued_at=timezone.now() - datetime.timedelta(seconds=16)
    )
    status = client.get(status_url).json()
    assert status["waiting_for_worker"] is True
    assert "manage.py db_worker" in status["worker_notice"]
    detail = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content
    assert b"Waiting for a worker" in detail
    # A worker claims it: the notice goes.
    TransferRun.objects.filter(pk=run.pk).update(state="running", started_at=timezone.now())
    assert client.get(status_url).json()["waiting_for_worker"] is False


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_task_worker_runs_the_queued_transfer_to_the_end(active_world, tmp_path):
    world = active_world
    for _index in range(3):
        seizure_validate(seizure=report(world), actor=world.ocu)
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    run = cen_transfer_start(operation=world.operation, actor=world.ocu)
    worker = subprocess.run(
        [sys.executable, "manage.py", "db_worker", "--batch", "--no-reload", "--no-startup-delay"],
        cwd=ROOT,
        env=server_environment(0, CENCOMM_VAR_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert worker.returncode == 0, worker.stderr
    run.refresh_from_db()
    assert run.state == TransferRun.State.RECONCILED and run.inserted == 3
    assert Operation.objects.get(pk=world.operation.pk).status == "transferred"


# ---- the REST API ---------------------------------------------------------------------------------


def api(user) -> APIClient:
    client = APIClient()
    sign_in(client, user)
    return client


def test_the_api_answers_where_the_seizures_stand_and_reopens(reported):
    world = reported
    ocu = api(world.ocu)
    answer = ocu.get("/api/v1/operations/TEST-2026/").json()
    assert answer["seizures"] == {"submitted": 1, "validated": 3, "rejected": 1}
    assert (answer["in_cen"], answer["validated_not_in_cen"], answer["all_in_cen"]) == (
        0,
        3,
        False,
    )
    refused = ocu.post("/api/v1/operations/TEST-2026/reopen/")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "invalid"
    assert "Only a closed operation is reopened" in refused.json()["error"]["detail"]
    ocu.post("/api/v1/operations/TEST-2026/status/", {"status": "closed"}, format="json")
    assert ocu.get("/api/v1/operations/TEST-2026/").json()["may_reopen"] is True
    reopened = ocu.post("/api/v1/operations/TEST-2026/reopen/")
    assert reopened.status_code == 200 and reopened.json()["status"] == "active"
    member = api(world.officer_fr).post("/api/v1/operations/TEST-2026/reopen/")
    assert member.status_code == 403 and member.json()["error"]["code"] == "permission_denied"


def test_the_api_follow_up_and_its_refusals(reported):
    world = reported
    ocu = api(world.ocu)
    not_closed = ocu.post("/api/v1/operations/TEST-2026/transfers/")
    assert not_closed.status_code == 400
    assert set(not_closed.json()["error"]) == {"code", "detail", "fields"}
    ocu.post("/api/v1/operations/TEST-2026/status/", {"status": "closed"}, format="json")
    started = ocu.post("/api/v1/operations/TEST-2026/transfers/")
    assert started.status_code == 202
    again = ocu.post("/api/v1/operations/TEST-2026/transfers/")
    assert again.status_code == 400 and "already queued" in again.json()["error"]["detail"]
    cen_transfer_run(run=TransferRun.objects.get(pk=started.json()["run"]))
    nothing = ocu.post("/api/v1/operations/TEST-2026/transfers/")
    assert nothing.status_code == 400 and "nothing to transfer" in nothing.json()["error"]["detail"]
    validated_twice = ocu.post(
        f"/api/v1/operations/TEST-2026/seizures/{world.validated[0].client_uuid}/validate/"
    )
    assert validated_twice.status_code == 400
    assert "Only a submitted seizure" in validated_twice.json()["error"]["detail"]
    late = ocu.post(f"/api/v1/operations/TEST-2026/seizures/{world.waiting.client_uuid}/validate/")
    assert late.status_code == 200
    answer = ocu.get("/api/v1/operations/TEST-2026/").json()
    assert answer["status"] == "transferred" and answer["validated_not_in_cen"] == 1
    follow_up = ocu.post("/api/v1/operations/TEST-2026/transfers/")
    assert follow_up.status_code == 202
    cen_transfer_run(run=TransferRun.objects.get(pk=follow_up.json()["run"]))
    answer = ocu.get("/api/v1/operations/TEST-2026/").json()
    assert answer["validated_not_in_cen"] == 0 and answer["all_in_cen"] is True


# ---- the run command --------------------------------------------------------------------------------


@pytest.mark.embedded
def test_the_run_command_starts_daphne_and_the_worker_and_stops_both(tmp_path):
    port = _free_port()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "CENCOMM_VAR_DIR": str(tmp_path),
        "PORT": str(port),
    }
    log = tmp_path / "run-demo.log"
    with log.open("w") as output:
        demo = subprocess.Popen(
            ["scripts/run-demo"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 300
        while "Stop both with Ctrl-C" not in log.read_text():
            assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        assert "task worker" in log.read_text()
        children = _children(demo.pid)
        assert any("db_worker" in command for command in children.values()), children
        assert any("daphne" in command for command in children.values()), children
        # A transfer queued as the button queues it completes on SQLite: the worker runs it.
        queue = (
            "from django.contrib.auth import get_user_model;"
            "from operations.models import Operation;"
            "from operations.services import operation_set_status;"
            "from operations.transfer import cen_transfer_start;"
            "ocu = get_user_model().objects.get(username='ocu');"
            "operation = Operation.objects.get(code='DEMO-2026');"
            "operation_set_status(operation=operation, status='closed', actor=ocu);"
            "print(cen_transfer_start(operation=operation, actor=ocu).pk)"
        )
        state = "from operations.models import TransferRun; print(TransferRun.objects.get().state)"
        shell_env = {**env, "DEBUG": "1"}
        queued = _manage(shell_env, "shell", "-c", queue)
        assert queued.returncode == 0, queued.stderr
        deadline = time.monotonic() + 180
        # The shell's last line is the answer (it may say first what it imported).
        while _manage(shell_env, "shell", "-c", state).stdout.split()[-1:] != ["reconciled"]:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(1)
        # Ctrl-C: the script stops both.
        os.kill(demo.pid, signal.SIGINT)
        demo.wait(timeout=30)
        assert "Stopping daphne and the task worker" in log.read_text()
        for pid in children:
            assert not _alive(pid), children[pid]
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)


def _manage(env: dict, *command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [".venv/bin/python", "manage.py", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _free_port() -> int:
    from tests.live import free_port

    return free_port()


def _children(pid: int) -> dict[int, str]:
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline") as cmdline:
                command = cmdline.read().replace("\0", " ")
        except OSError:
            continue
        if parent == pid:
            found[int(entry)] = command
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
