"""The end-of-operation transfer to CEN: exactly once, reconciled, visible."""

import csv
import io
import os
import signal
import subprocess
import sys
import uuid
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from core.models import AuditEntry
from groups.models import GroupEvent
from operations.cen.mapping import (
    RECORD_FIELDS,
    SOURCE_FIELDS,
    SOURCE_SYSTEM,
    VOCABULARY_MAPPINGS,
    cen_record,
    content_hash,
)
from operations.cen.models import CenIngestRun, CenSeizure
from operations.models import Operation, Seizure, TransferRun
from operations.reconciliation import cen_reconcile
from operations.services import (
    operation_set_status,
    seizure_reject,
    seizure_report,
    seizure_validate,
)
from operations.transfer import (
    TransferBusy,
    cen_transfer_run,
    cen_transfer_run_foreground,
    cen_transfer_start,
)
from operations.transfer_selectors import data_quality
from tests.conftest import sign_in
from tests.crashing_worker import CRASH_POINTS
from tests.live import ROOT, server_environment
from tests.operations.conftest import new_uuid, seizure_data

BOTH = ["default", "cen"]
pytestmark = pytest.mark.django_db(databases=BOTH)


# ---- helpers -------------------------------------------------------------------------


def report(world, reporter=None, **overrides) -> Seizure:
    seizure, _created = seizure_report(
        reporter=reporter or world.officer_fr,
        operation=world.operation,
        data=seizure_data(**overrides),
        client_uuid=new_uuid(),
    )
    return seizure


def closed_with(world, *, validated=5, submitted=0, rejected=0) -> dict[str, list[Seizure]]:
    """Report seizures in the active operation, review them, and close it."""
    made = {"validated": [], "submitted": [], "rejected": []}
    for index in range(validated):
        seizure = report(
            world,
            reporter=world.officer_de if index % 2 else world.officer_fr,
            quantity=f"{index + 1}.250",
            unit="g" if index % 3 == 0 else "kg",
        )
        made["validated"].append(seizure_validate(seizure=seizure, actor=world.ocu))
    for _index in range(submitted):
        made["submitted"].append(report(world))
    for _index in range(rejected):
        seizure = report(world)
        made["rejected"].append(
            seizure_reject(seizure=seizure, actor=world.ocu, reason="Quantity missing a digit")
        )
    operation_set_status(operation=world.operation, status="closed", actor=world.ocu)
    world.operation.refresh_from_db()
    return made


def _hashable(row) -> tuple:
    return tuple(tuple(value) if isinstance(value, list) else value for value in row)


def cen_rows(code: str) -> list[tuple]:
    """Everything a CEN row holds that a run decides: its mapped fields and hash."""
    return sorted(
        _hashable(row)
        for row in CenSeizure.objects.using("cen")
        .filter(operation_code=code)
        .values_list(*RECORD_FIELDS, "content_hash")
    )


def expected_rows(operation: Operation) -> list[tuple]:
    validated = Seizure.objects.filter(operation=operation, status="validated")
    records = [
        cen_record(row, operation_code=operation.code) for row in validated.values(*SOURCE_FIELDS)
    ]
    return sorted(
        _hashable(record[name] for name in (*RECORD_FIELDS, "content_hash")) for record in records
    )


@pytest.fixture
def closed_world(active_world):
    active_world.made = closed_with(active_world, validated=7, submitted=2, rejected=1)
    return active_world


# ---- the mapping ------------------------------------------------------------------------


def test_every_vocabulary_value_has_a_cen_code():
    for column, (_source, mapping, vocabulary) in VOCABULARY_MAPPINGS.items():
        assert set(mapping) == set(vocabulary.values), column


def test_the_cen_record_uses_cen_codes_and_iso_countries(active_world):
    seizure = report(active_world, unit="g", quantity="250", hs_code="293979", currency="eur")
    row = Seizure.objects.filter(pk=seizure.pk).values(*SOURCE_FIELDS).get()
    record = cen_record(row, operation_code="TEST-2026")
    assert record["source_system"] == SOURCE_SYSTEM
    assert record["commodity_category"] == "DRUGS"
    assert record["itr_section"] == "DRUGS"
    assert record["unit_code"] == "GRM"
    assert record["quantity_kg"] == Decimal("0.25")
    assert record["transport_mode"] == "AIR"
    assert record["detection_method"] == "NON_INTRUSIVE_SCANNER"
    assert record["location_type"] == "AIRPORT"
    assert record["concealment_method"] == "IN_LUGGAGE"
    assert record["departure_country"] == "CO"
    assert record["transit_countries"] == ["ES"]
    assert record["currency"] == "EUR"
    assert record["hs_code"] == "293979"


def test_the_hash_is_canonical_whatever_the_decimal_spelling(active_world):
    seizure = report(active_world, quantity="100")
    row = Seizure.objects.filter(pk=seizure.pk).values(*SOURCE_FIELDS).get()
    record = cen_record(row, operation_code="TEST-2026")
    respelled = {**record, "quantity": Decimal("100.000"), "quantity_kg": Decimal("1E+2")}
    assert content_hash(respelled) == record["content_hash"]
    assert content_hash({**record, "quantity": Decimal("100.001")}) != record["content_hash"]


def test_nothing_personal_reaches_cen(active_world):
    seizure = report(
        active_world,
        concealment_details="Hidden by courier Jean Dupont, passport 12AB34567",
    )
    seizure_validate(seizure=seizure, actor=active_world.ocu)
    operation_set_status(operation=active_world.operation, status="closed", actor=active_world.ocu)
    cen_transfer_run_foreground(operation=active_world.operation)
    stored = CenSeizure.objects.using("cen").filter(operation_code="TEST-2026").values().get()
    text = " ".join(str(value) for value in stored.values())
    assert "Dupont" not in text and "12AB34567" not in text
    assert active_world.officer_fr.username not in text
    assert active_world.ocu.username not in text
    for never in (
        "reported_by",
        "reviewed_by",
        "concealment_details",
        "rejection_reason",
        "message",
    ):
        assert never not in SOURCE_FIELDS


# ---- running a transfer -----------------------------------------------------------------


def test_a_transfer_sends_exactly_the_validated_seizures_and_marks_the_operation(closed_world):
    run = cen_transfer_run_foreground(operation=closed_world.operation, batch_size=3)
    operation = Operation.objects.get(pk=closed_world.operation.pk)
    assert run.state == TransferRun.State.RECONCILED
    assert operation.status == Operation.Status.TRANSFERRED
    assert (run.validated, run.sent, run.inserted, run.already_present) == (7, 7, 7, 0)
    assert run.batches_done == 3
    assert run.rows_per_second > 0
    assert cen_rows("TEST-2026") == expected_rows(operation)
    checkpoint = CenIngestRun.objects.using("cen").get(run_id=run.pk)
    assert (checkpoint.batches_done, checkpoint.rows_inserted) == (3, 7)
    assert checkpoint.last_seizure_pk == max(s.pk for s in closed_world.made["validated"])
    assert run.report["reconciliation"]["ok"] is True
    events = list(
        GroupEvent.objects.filter(group=closed_world.group, type__startswith="transfer.")
        .order_by("seq")
        .values_list("type", flat=True)
    )
    assert events[0] == "transfer.started" and events[-1] == "transfer.finished"
    assert "transfer.progress" in events
    actions = set(
        AuditEntry.objects.filter(group=closed_world.group).values_list("action", flat=True)
    )
    assert {"transfer_started", "transfer_finished"} <= actions


def test_left_behind_seizures_are_listed_with_their_reason(closed_world):
    run = cen_transfer_run_foreground(operation=closed_world.operation)
    left = run.report["left_behind"]
    assert run.left_behind == 3
    assert left["by_status"] == {"submitted": 2, "rejected": 1}
    by_uuid = {item["uuid"]: item for item in left["seizures"]}
    rejected = closed_world.made["rejected"][0]
    assert by_uuid[str(rejected.client_uuid)]["reason"] == "Quantity missing a digit"
    for seizure in closed_world.made["submitted"]:
        assert by_uuid[str(seizure.client_uuid)]["status"] == "submitted"
    sent = set(CenSeizure.objects.using("cen").values_list("seizure_uuid", flat=True))
    assert sent == {s.client_uuid for s in closed_world.made["validated"]}


def test_running_a_completed_transfer_again_changes_nothing_and_says_so(closed_world):
    out = io.StringIO()
    call_command("transfer_to_cen", "test-2026", stdout=out)
    assert "reconciled and transferred" in out.getvalue()
    before = cen_rows("TEST-2026")
    out = io.StringIO()
    call_command("transfer_to_cen", "TEST-2026", stdout=out)
    summary = out.getvalue().strip()
    assert "already transferred" in summary and "nothing changed" in summary
    assert len(summary.splitlines()) == 1
    assert cen_rows("TEST-2026") == before
    second = TransferRun.objects.filter(operation=closed_world.operation).first()
    assert (second.inserted, second.already_present) == (0, 7)
    assert second.state == TransferRun.State.RECONCILED


def test_a_cen_row_that_differs_fails_the_run_and_the_operation_stays_closed(closed_world):
    run = cen_transfer_run_foreground(operation=closed_world.operation)
    Operation.objects.filter(pk=closed_world.operation.pk).update(status="closed")
    victim = closed_world.made["validated"][0]
    CenSeizure.objects.using("cen").filter(seizure_uuid=victim.client_uuid).update(
        quantity=Decimal("999")
    )
    run = cen_transfer_run_foreground(operation=closed_world.operation)
    assert run.state == TransferRun.State.FAILED
    assert run.report["reconciliation"]["differing"] == [str(victim.client_uuid)]
    assert Operation.objects.get(pk=closed_world.operation.pk).status == "closed"


def test_an_unexpected_cen_row_fails_the_run_with_a_report(closed_world):
    # A record of no seizure of this operation: not the platform's to remove.
    stranger = uuid.uuid4()
    source = Seizure.objects.filter(pk=closed_world.made["submitted"][0].pk).values(*SOURCE_FIELDS)
    CenSeizure.objects.using("cen").create(
        **cen_record({**source.get(), "client_uuid": stranger}, operation_code="TEST-2026")
    )
    with pytest.raises(CommandError) as error:
        call_command("transfer_to_cen", "TEST-2026", stdout=io.StringIO())
    assert "transfer failed" in str(error.value) and "1 unexpected" in str(error.value)
    run = TransferRun.objects.get(operation=closed_world.operation)
    assert run.state == TransferRun.State.FAILED
    assert run.report["reconciliation"]["unexpected"] == [str(stranger)]
    assert Operation.objects.get(pk=closed_world.operation.pk).status == "closed"


def test_reconciliation_reports_what_is_missing(closed_world):
    result = cen_reconcile(operation=closed_world.operation)
    assert not result.ok
    assert len(result.missing) == 7 and result.in_cen == 0


def test_only_a_closed_operation_is_transferred(active_world):
    with pytest.raises(ValidationError):
        cen_transfer_start(operation=active_world.operation, actor=active_world.ocu)
    with pytest.raises(CommandError, match="close it"):
        call_command("transfer_to_cen", "TEST-2026")


def test_the_command_refuses_an_unknown_operation(db):
    with pytest.raises(CommandError, match="no operation"):
        call_command("transfer_to_cen", "NOPE-1")


# ---- starting: who, and one at a time ------------------------------------------------------


@pytest.mark.parametrize("actor", ["officer_fr", "observer", "outsider"])
def test_only_coordinators_and_staff_start_a_transfer(closed_world, actor):
    with pytest.raises(PermissionDenied):
        cen_transfer_start(operation=closed_world.operation, actor=getattr(closed_world, actor))
    assert not TransferRun.objects.exists()
    run = cen_transfer_start(operation=closed_world.operation, actor=closed_world.staff)
    assert run.state == TransferRun.State.QUEUED


def test_only_one_run_per_operation_at_a_time(closed_world):
    first = cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    with pytest.raises(ValidationError, match="already queued or running"):
        cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    # A live process holds the run: no other door may start or run it.
    TransferRun.objects.filter(pk=first.pk).update(
        state="running", worker=f"{os.uname().nodename}:{os.getpid()}"
    )
    with pytest.raises(ValidationError, match="already queued or running"):
        cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    with pytest.raises(TransferBusy):
        cen_transfer_run_foreground(operation=closed_world.operation)
    with pytest.raises(TransferBusy):
        cen_transfer_run(run=first)
    assert TransferRun.objects.count() == 1


def test_a_run_whose_process_died_is_resumed_not_blocked(closed_world):
    first = cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    TransferRun.objects.filter(pk=first.pk).update(
        state="running", worker=f"{os.uname().nodename}:{dead.stdout.strip()}", attempts=1
    )
    again = cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    assert again.pk == first.pk and again.state == TransferRun.State.QUEUED
    run = cen_transfer_run(run=again)
    assert run.state == TransferRun.State.RECONCILED and run.attempts == 2


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_button_queues_a_job_that_the_worker_runs(client, closed_world):
    sign_in(client, closed_world.ocu)
    response = client.post(
        reverse("operations:transfer_start", kwargs={"code": "TEST-2026"}), follow=True
    )
    assert response.status_code == 200
    assert "queued" in response.content.decode()
    run = TransferRun.objects.get(operation=closed_world.operation)
    assert run.state == TransferRun.State.QUEUED
    # Nothing happened inside the request: the job waits for the worker.
    assert not CenSeizure.objects.using("cen").exists()
    job = DBTaskResult.objects.get()
    assert job.task_path == "operations.tasks.run_cen_transfer"
    assert job.args_kwargs == {"args": [run.pk], "kwargs": {}}
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    run.refresh_from_db()
    assert run.state == TransferRun.State.RECONCILED
    assert Operation.objects.get(pk=closed_world.operation.pk).status == "transferred"
    assert cen_rows("TEST-2026") == expected_rows(closed_world.operation)


@pytest.mark.parametrize("user", ["officer_fr", "observer"])
def test_members_cannot_press_the_button(client, closed_world, user):
    sign_in(client, getattr(closed_world, user))
    url = reverse("operations:transfer_start", kwargs={"code": "TEST-2026"})
    assert client.post(url).status_code == 403
    assert not TransferRun.objects.exists()


def test_outsiders_do_not_learn_the_operation_exists(client, closed_world):
    sign_in(client, closed_world.outsider)
    code = {"code": "TEST-2026"}
    assert client.post(reverse("operations:transfer_start", kwargs=code)).status_code == 404
    assert client.get(reverse("operations:transfer_status", kwargs=code)).status_code == 404
    url = reverse("operations:transfer_report", kwargs={**code, "run_id": 1})
    assert client.get(url).status_code == 404


# ---- visible: the operation page, status, report ------------------------------------------


def test_the_operation_page_shows_the_button_history_and_quality_to_coordinators(
    client, closed_world
):
    sign_in(client, closed_world.ocu)
    url = reverse("operations:detail", kwargs={"code": "TEST-2026"})
    page = client.get(url).content.decode()
    assert 'id="transfer-start"' in page and 'id="transfer-config"' in page
    assert 'id="data-quality"' in page and "js/transfer.js" in page
    cen_transfer_run_foreground(operation=closed_world.operation)
    page = client.get(url).content.decode()
    assert 'id="transfer-start"' not in page
    assert "report.csv" in page


def test_members_see_progress_but_no_button_reports_or_quality(client, closed_world):
    cen_transfer_run_foreground(operation=closed_world.operation)
    sign_in(client, closed_world.officer_fr)
    page = client.get(reverse("operations:detail", kwargs={"code": "TEST-2026"})).content.decode()
    assert 'id="transfer-history"' in page
    assert 'id="transfer-start"' not in page and "report.csv" not in page
    assert 'id="data-quality"' not in page
    status = client.get(reverse("operations:transfer_status", kwargs={"code": "TEST-2026"}))
    run = status.json()["runs"][0]
    assert run["state"] == "reconciled" and run["inserted"] == 7
    assert "report_url" not in run
    report_url = reverse(
        "operations:transfer_report", kwargs={"code": "TEST-2026", "run_id": run["run"]}
    )
    assert client.get(report_url).status_code == 403


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_status_json_carries_progress_for_the_live_panel(client, closed_world):
    cen_transfer_start(operation=closed_world.operation, actor=closed_world.ocu)
    sign_in(client, closed_world.ocu)
    url = reverse("operations:transfer_status", kwargs={"code": "TEST-2026"})
    data = client.get(url).json()
    assert data["active"] is True and data["runs"][0]["state"] == "queued"
    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)
    data = client.get(url).json()
    latest = data["runs"][0]
    assert data["active"] is False
    for key in ("batches_done", "sent", "inserted", "rows_per_second", "report_url", "summary"):
        assert key in latest


def test_the_report_csv_lists_left_behind_and_data_quality(client, closed_world):
    run = cen_transfer_run_foreground(operation=closed_world.operation)
    sign_in(client, closed_world.ocu)
    url = reverse("operations:transfer_report", kwargs={"code": "TEST-2026", "run_id": run.pk})
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    flat = [cell for row in rows for cell in row]
    assert "Left behind (not transferred)" in flat
    assert "Rejected: Quantity missing a digit" in flat
    assert "Data quality per administration" in flat
    assert str(closed_world.made["submitted"][0].client_uuid) in flat
    assert AuditEntry.objects.filter(action="seizures_exported").exists()


def test_an_unknown_run_is_not_found(client, closed_world):
    sign_in(client, closed_world.ocu)
    url = reverse("operations:transfer_report", kwargs={"code": "TEST-2026", "run_id": 999999})
    assert client.get(url).status_code == 404


# ---- data quality ------------------------------------------------------------------------------


def test_data_quality_counts_completeness_and_timeliness_per_administration(active_world):
    report(active_world, hs_code="293979", estimated_value="1000", currency="EUR")
    report(active_world, departure_country="", destination_country="", concealment="")
    report(active_world, reporter=active_world.officer_de, reporting_country="DE")
    quality = data_quality(operation=active_world.operation)
    rows = {row["country"]: row for row in quality["administrations"]}
    assert rows["FR"]["reported"] == 2 and rows["DE"]["reported"] == 1
    assert rows["FR"]["completeness"]["hs_code"] == 50.0
    assert rows["FR"]["completeness"]["departure_country"] == 50.0
    assert rows["DE"]["completeness"]["estimated_value"] == 0.0
    # seizure_data() dates the seizure yesterday and it is reported today.
    assert rows["FR"]["days_median"] == 1 and rows["FR"]["days_max"] == 1


# ---- the CEN analyst page ----------------------------------------------------------------------


@pytest.fixture
def analyst(make_user):
    user = make_user("analyst", country="BE")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="cen", codename="analyse")
    )
    return user


def test_the_analyst_page_needs_the_cen_permission(client, closed_world, analyst):
    cen_transfer_run_foreground(operation=closed_world.operation)
    page, data = reverse("cen_analyst"), reverse("cen_analyst_data")
    assert client.get(page).status_code == 302
    sign_in(client, closed_world.ocu)
    assert client.get(page).status_code == 403
    assert client.get(data).status_code == 403
    sign_in(client, closed_world.staff)
    assert client.get(page).status_code == 200
    client.logout()
    sign_in(client, analyst)
    response = client.get(page)
    assert response.status_code == 200
    assert "TEST-2026" in response.content.decode()


def test_the_analyst_filters_and_charts(client, closed_world, analyst):
    cen_transfer_run_foreground(operation=closed_world.operation)
    sign_in(client, analyst)
    data = client.get(reverse("cen_analyst_data")).json()
    assert data["total"] == 7
    assert data["by_category"] == [{"key": "DRUGS", "total": 7, "validated": 7}]
    assert {row["key"] for row in data["by_country"]} == {"FR"}
    year = CenSeizure.objects.using("cen").first().seizure_date.year
    assert data["by_year"] == [{"key": str(year), "total": 7, "validated": 7}]
    assert data["kilograms"]
    filtered = client.get(reverse("cen_analyst_data"), {"category": "TOBACCO"}).json()
    assert filtered["total"] == 0
    filtered = client.get(
        reverse("cen_analyst_data"), {"operation": "test-2026", "country": "fr", "year": year}
    ).json()
    assert filtered["total"] == 7
    bad = client.get(reverse("cen_analyst_data"), {"year": "soon"})
    assert bad.status_code == 400 and "year" in bad.json()["error"]["fields"]
    assert client.get(reverse("cen_analyst"), {"country": "France"}).status_code == 400


def test_the_analyst_sees_only_what_was_transferred(client, closed_world, analyst):
    sign_in(client, analyst)
    page = client.get(reverse("cen_analyst")).content.decode()
    assert "TEST-2026" not in page
    assert client.get(reverse("cen_analyst_data")).json()["total"] == 0


# ---- killed at any point, run again: exactly once ---------------------------------------------


def _transfer_process(code: str, *, crash_at: str = "", batch_size: int = 3, tmp_path):
    env = server_environment(
        0,
        DJANGO_SETTINGS_MODULE="cencomm.settings",
        CENCOMM_VAR_DIR=str(tmp_path / "var"),
        # The worker's pools in docker/compose.yaml, the smallest a transfer runs in: its
        # reader and its writer thread each hold a CEN connection.
        DATABASE_POOL_MAX_SIZE="3",
        CEN_DATABASE_POOL_MAX_SIZE="2",
    )
    command = ["transfer_to_cen", code, "--batch-size", str(batch_size)]
    # The launcher runs the same command, killing the process at the point named.
    launcher = ["-m", "tests.crashing_worker", crash_at] if crash_at else ["manage.py"]
    return subprocess.run(
        [sys.executable, *launcher, *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True, databases=BOTH)
@pytest.mark.parametrize(
    ("crash_at", "rows_left_in_cen"),
    [
        ("before_first_batch", 0),
        # The second batch of three was inserted but not committed: only the first stays.
        ("mid_batch@2", 3),
        # The first batch and its checkpoint committed in CEN; the platform never heard.
        ("between_batches", 3),
        ("before_reconciliation", 8),
    ],
)
def test_a_run_killed_at_any_point_and_run_again_ends_exactly_as_an_uninterrupted_one(
    active_world, crash_at, rows_left_in_cen, tmp_path
):
    assert crash_at.partition("@")[0] in CRASH_POINTS
    closed_with(active_world, validated=8, submitted=1, rejected=1)
    operation = active_world.operation

    # The reference: an uninterrupted run, then the CEN side wiped for the real test.
    reference = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert reference.returncode == 0, reference.stderr
    reference_rows = cen_rows("TEST-2026")
    assert len(reference_rows) == 8
    CenSeizure.objects.using("cen").all().delete()
    CenIngestRun.objects.using("cen").all().delete()
    TransferRun.objects.all().delete()
    Operation.objects.filter(pk=operation.pk).update(status="closed")

    killed = _transfer_process("TEST-2026", crash_at=crash_at, tmp_path=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = TransferRun.objects.get(operation=operation)
    assert run.state == TransferRun.State.RUNNING
    assert Operation.objects.get(pk=operation.pk).status == "closed"
    assert len(cen_rows("TEST-2026")) == rows_left_in_cen

    again = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "reconciled" in again.stdout and len(again.stdout.strip().splitlines()) == 1
    assert cen_rows("TEST-2026") == reference_rows == expected_rows(operation)
    run.refresh_from_db()
    assert run.state == TransferRun.State.RECONCILED and run.attempts == 2
    # The counts come from the CEN checkpoint: nothing counted twice, nothing lost.
    assert run.inserted + run.already_present == run.sent == 8
    assert run.inserted == 8
    assert Operation.objects.get(pk=operation.pk).status == "transferred"

    once_more = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert once_more.returncode == 0 and "nothing changed" in once_more.stdout
    assert cen_rows("TEST-2026") == reference_rows


@pytest.mark.django_db(transaction=True, databases=BOTH)
def test_the_command_exits_non_zero_when_the_run_does_not_reconcile(active_world, tmp_path):
    closed_with(active_world, validated=2)
    CenSeizure.objects.using("cen").create(
        **cen_record(
            {**Seizure.objects.values(*SOURCE_FIELDS).first(), "client_uuid": uuid.uuid4()},
            operation_code="TEST-2026",
        )
    )
    result = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert result.returncode == 1
    assert "transfer failed" in result.stderr and "stays closed" in result.stderr
    assert Operation.objects.get(pk=active_world.operation.pk).status == "closed"


def test_postgresql_reconciles_by_digest_and_it_matches_ours(closed_world):
    from operations.reconciliation import _digest, _digest_in_cen

    run = cen_transfer_run_foreground(operation=closed_world.operation)
    assert run.state == TransferRun.State.RECONCILED
    hashes = {
        str(key): value
        for key, value in CenSeizure.objects.using("cen").values_list(
            "seizure_uuid", "content_hash"
        )
    }
    assert _digest_in_cen("TEST-2026") == _digest(hashes)
    assert _digest_in_cen("NOTHING-HERE") == _digest({})


@pytest.mark.parametrize("writer", ["_upsert_portable", "_upsert_postgresql"])
def test_the_portable_upsert_counts_like_the_postgresql_one(closed_world, writer):
    from operations import cen_ingest
    from operations.cen.mapping import cen_record_json

    def write(records):
        if writer == "_upsert_portable":
            return cen_ingest._upsert_portable(checkpoint, [record for record, _ in records])
        return cen_ingest._upsert_postgresql(
            checkpoint, [record for record, _ in records], [canonical for _, canonical in records]
        )

    rows = list(Seizure.objects.filter(status="validated").order_by("pk").values(*SOURCE_FIELDS))
    records = [cen_record_json(row, operation_code="TEST-2026") for row in rows]
    checkpoint = CenIngestRun.objects.using("cen").create(
        run_id=1, source_system=SOURCE_SYSTEM, operation_code="TEST-2026"
    )
    inserted, updated = write(records[:3])
    assert (len(inserted), updated) == (3, [])
    inserted, updated = write(records)
    assert (len(inserted), updated) == (4, [])
    assert cen_rows("TEST-2026") == expected_rows(closed_world.operation)
    before = CenSeizure.objects.using("cen").get(seizure_uuid=rows[1]["client_uuid"])

    corrected = {**rows[1], "place": "Port of Antwerp, berth 12"}
    inserted, updated = write([records[0], cen_record_json(corrected, operation_code="TEST-2026")])
    assert (inserted, [str(key) for key in updated]) == ([], [str(rows[1]["client_uuid"])])
    after = CenSeizure.objects.using("cen").get(seizure_uuid=rows[1]["client_uuid"])
    assert after.place == "Port of Antwerp, berth 12"
    assert after.content_hash != before.content_hash
    assert after.content_hash == content_hash(
        {name: getattr(after, name) for name in RECORD_FIELDS}
    )
    assert after.last_changed_at > before.last_changed_at
    assert after.transferred_at == before.transferred_at


@pytest.mark.embedded
def test_the_embedded_default_transfers_with_insert_or_ignore_on_sqlite(tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", "/root"),
        "DEBUG": "1",
        "CENCOMM_VAR_DIR": str(tmp_path),
    }

    def manage(*command):
        return subprocess.run(
            [sys.executable, "manage.py", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )

    for command in (
        ["migrate"],
        ["migrate", "--database", "cen"],
        ["seed_demo", "--seizures", "30"],
    ):
        assert manage(*command).returncode == 0
    close = "from operations.models import Operation; Operation.objects.filter(code='DEMO-2026').update(status='closed')"
    assert manage("shell", "-c", close).returncode == 0
    first = manage("transfer_to_cen", "DEMO-2026", "--batch-size", "7")
    assert first.returncode == 0, first.stderr
    assert "reconciled and transferred" in first.stdout
    again = manage("transfer_to_cen", "DEMO-2026")
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert (tmp_path / "cen.sqlite3").exists()


@pytest.mark.django_db(transaction=True, databases=BOTH)
@pytest.mark.parametrize("crash_at", ["mid_batch@2", "between_batches", "before_reconciliation"])
def test_a_follow_up_run_killed_and_run_again_sends_the_late_seizures_exactly_once(
    active_world, crash_at, tmp_path
):
    made = closed_with(active_world, validated=4, submitted=5)
    operation = active_world.operation
    first = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert first.returncode == 0, first.stderr
    before = cen_rows("TEST-2026")
    # Validated after the transfer: the follow-up's business.
    for seizure in made["submitted"]:
        seizure_validate(seizure=seizure, actor=active_world.ocu)

    killed = _transfer_process("TEST-2026", crash_at=crash_at, batch_size=3, tmp_path=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    follow_up = TransferRun.objects.filter(operation=operation).first()
    assert follow_up.state == TransferRun.State.RUNNING
    # The first transfer's rows are untouched, whatever the follow-up got to.
    assert set(before) <= set(cen_rows("TEST-2026"))

    again = _transfer_process("TEST-2026", batch_size=3, tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "follow-up transfer reconciled" in again.stdout
    assert cen_rows("TEST-2026") == expected_rows(operation)
    assert len(cen_rows("TEST-2026")) == 9
    follow_up.refresh_from_db()
    assert follow_up.state == TransferRun.State.RECONCILED and follow_up.attempts == 2
    assert (follow_up.inserted, follow_up.already_present) == (5, 4)
    delivered = {item["uuid"] for item in follow_up.report["delivered"]["seizures"]}
    assert delivered == {str(seizure.client_uuid) for seizure in made["submitted"]}
    assert CenIngestRun.objects.using("cen").get(run_id=follow_up.pk).rows_inserted == 5


@pytest.mark.django_db(transaction=True, databases=BOTH)
@pytest.mark.parametrize(
    "crash_at", ["before_first_batch", "mid_batch@2", "between_batches", "before_reconciliation"]
)
def test_a_run_during_the_operation_with_updates_killed_and_run_again_ends_as_an_uninterrupted_one(
    active_world, crash_at, tmp_path
):
    world = active_world
    Operation.objects.filter(pk=world.operation.pk).update(send_to_cen_continuously=True)
    first = [seizure_validate(seizure=report(world), actor=world.ocu) for _index in range(5)]
    sent = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert sent.returncode == 0, sent.stderr
    assert "sent during the operation" in sent.stdout
    before = {
        str(row.seizure_uuid): row
        for row in CenSeizure.objects.using("cen").filter(operation_code="TEST-2026")
    }
    # Two corrected after they reached CEN, one taken back from validation, three new.
    for seizure in first[:2]:
        Seizure.objects.filter(pk=seizure.pk).update(place=f"Corrected place {seizure.pk}")
    Seizure.objects.filter(pk=first[4].pk).update(status="rejected", rejection_reason="Duplicate")
    for _index in range(3):
        seizure_validate(seizure=report(world), actor=world.ocu)

    killed = _transfer_process("TEST-2026", crash_at=crash_at, tmp_path=tmp_path)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    run = TransferRun.objects.filter(operation=world.operation).first()
    assert run.state == TransferRun.State.RUNNING

    again = _transfer_process("TEST-2026", tmp_path=tmp_path)
    assert again.returncode == 0, again.stderr
    assert cen_rows("TEST-2026") == expected_rows(world.operation)
    assert len(cen_rows("TEST-2026")) == 7
    run.refresh_from_db()
    assert run.state == TransferRun.State.RECONCILED and run.attempts == 2
    # Counted once each, from the CEN checkpoint, as an uninterrupted run counts them.
    assert (run.inserted, run.updated, run.already_present, run.withdrawn) == (3, 2, 2, 1)
    assert run.sent == 7
    after = {
        str(row.seizure_uuid): row
        for row in CenSeizure.objects.using("cen").filter(operation_code="TEST-2026")
    }
    for seizure in first[:2]:
        key = str(seizure.client_uuid)
        assert after[key].content_hash != before[key].content_hash
        assert after[key].last_changed_at > before[key].last_changed_at
    for seizure in first[2:4]:
        key = str(seizure.client_uuid)
        assert after[key].last_changed_at == before[key].last_changed_at
    assert str(first[4].client_uuid) not in after
    assert Operation.objects.get(pk=world.operation.pk).status == "active"
