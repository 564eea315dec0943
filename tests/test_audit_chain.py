"""The audit trail's hash chain: sealed on every insert, verified by audit_verify, and
shipped as JSON lines by audit_export. Tampering is done the way someone with database
access would: raw SQL, past the append-only trigger."""

import io
import itertools
import json
import threading
import time

import pytest
from django.core.management import CommandError, call_command
from django.db import close_old_connections, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.audit import Action, audit_entry, audit_record
from core.audit_chain import GENESIS, entry_hash
from core.bulk import bulk_insert
from core.models import AuditEntry
from groups.models import Role
from groups.services import membership_add, memberships_add_many

pytestmark = pytest.mark.django_db


def _ids() -> list[int]:
    return list(AuditEntry.objects.order_by("pk").values_list("pk", flat=True))


def _tamper(sql: str, params=()) -> None:
    """Run ``sql`` with the append-only trigger out of the way, as an attacker would."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("ALTER TABLE cencomm_auditentry DISABLE TRIGGER USER")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("ALTER TABLE cencomm_auditentry ENABLE TRIGGER USER")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _verify() -> str:
    out = io.StringIO()
    call_command("audit_verify", stdout=out)
    return out.getvalue()


def _broken() -> str:
    with pytest.raises(CommandError) as raised:
        call_command("audit_verify", stdout=io.StringIO())
    return str(raised.value)


@pytest.fixture
def trail(world, make_user):
    """Several entries written by single saves and by a bulk service."""
    for name in ("a1", "a2", "a3"):
        membership_add(
            group=world.group, user=make_user(name), role=Role.MEMBER, added_by=world.ocu
        )
    memberships_add_many(
        group=world.group,
        users=[make_user(f"bulk{i}") for i in range(3)],
        role=Role.MEMBER,
        added_by=world.ocu,
    )
    audit_record(actor=world.ocu, action=Action.LOGIN, data={"via": "test", "n": [1, 2]})
    return _ids()


def test_every_entry_links_to_the_one_before_whoever_wrote_it(trail):
    entries = list(AuditEntry.objects.order_by("pk"))
    assert len(entries) >= 8
    assert entries[0].prev_hash == GENESIS
    for before, entry in itertools.pairwise(entries):
        assert entry.prev_hash == before.hash
        assert entry.hash == entry_hash(entry, entry.prev_hash)
    assert _verify() == (
        f"Audit trail intact: {len(entries)} entries, every one follows the one before.\n"
    )


def test_a_changed_field_is_named(trail):
    victim = trail[3]
    _tamper("UPDATE cencomm_auditentry SET target = 'someone.else' WHERE id = %s", [victim])
    assert f"entry #{victim} was changed" in _broken()


def test_a_changed_address_is_named(trail):
    victim = trail[-1]
    _tamper(
        "UPDATE cencomm_auditentry SET ip = '10.9.9.9' WHERE id = %s",
        [victim],
    )
    assert f"entry #{victim} was changed" in _broken()


def test_a_removed_entry_is_named_by_the_one_after_it(trail):
    removed = trail[4]
    _tamper("DELETE FROM cencomm_auditentry WHERE id = %s", [removed])
    message = _broken()
    assert f"between #{trail[3]} and #{trail[5]}" in message
    assert "removed" in message


def test_removing_the_first_entry_shows(trail):
    _tamper("DELETE FROM cencomm_auditentry WHERE id = %s", [trail[0]])
    assert f"between the start and #{trail[1]}" in _broken()


def _forge(entry_id: int, *, prev_hash: str, hash_: str) -> None:
    _tamper(
        "INSERT INTO cencomm_auditentry (id, at, actor_name, action, target, data, prev_hash, hash)"
        " VALUES (%s, CURRENT_TIMESTAMP, 'ghost', 'login', '', '{}', %s, %s)",
        [entry_id, prev_hash, hash_],
    )


def test_a_forged_row_slipped_into_a_gap_is_named(trail, world):
    # A gap in the ids (a transaction that rolled back) is where a row can be slipped in.
    _tamper("DELETE FROM cencomm_auditentry WHERE id = %s", [trail[-1]])
    audit_record(actor=world.ocu, action=Action.LOGOUT)
    before = AuditEntry.objects.get(pk=trail[-2])
    _forge(trail[-1], prev_hash=before.hash, hash_="f" * 64)
    # The real entry after the gap linked to ``before``: the forged one is named.
    assert f"entry #{trail[-1]} was inserted" in _broken()


def test_a_forged_row_with_a_well_made_hash_is_named(trail, world):
    _tamper("DELETE FROM cencomm_auditentry WHERE id = %s", [trail[-1]])
    audit_record(actor=world.ocu, action=Action.LOGOUT)
    before = AuditEntry.objects.get(pk=trail[-2])
    _forge(trail[-1], prev_hash=before.hash, hash_="0" * 64)
    forged = AuditEntry.objects.get(pk=trail[-1])
    _tamper(
        "UPDATE cencomm_auditentry SET hash = %s WHERE id = %s",
        [entry_hash(forged, before.hash), forged.pk],
    )
    assert f"entry #{trail[-1]} was inserted" in _broken()


def test_a_forged_row_appended_at_the_end_is_named(trail):
    _forge(trail[-1] + 1000, prev_hash="1" * 64, hash_="2" * 64)
    assert f"entry #{trail[-1] + 1000} was inserted" in _broken()


def test_the_first_break_is_named_when_there_are_several(trail):
    _tamper("UPDATE cencomm_auditentry SET target = 'x' WHERE id IN (%s, %s)", [trail[2], trail[6]])
    message = _broken()
    assert f"entry #{trail[2]} was changed" in message
    assert f"#{trail[6]}" not in message


def test_the_chain_survives_a_rolled_back_write(trail, world):
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(actor=world.ocu, action=Action.LOGOUT)
        raise RuntimeError
    audit_record(actor=world.ocu, action=Action.LOGIN)
    assert "intact" in _verify()


def test_bulk_writes_outside_a_transaction_are_sealed_too(world):
    entries = [audit_entry(actor=world.ocu, action=Action.LOGIN, target=str(i)) for i in range(5)]
    bulk_insert(entries)
    AuditEntry.objects.bulk_create(
        [audit_entry(actor=world.ocu, action=Action.LOGOUT, target=str(i)) for i in range(3)]
    )
    assert "intact" in _verify()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once")
def test_two_writers_at_once_do_not_fork_the_chain(world):
    barrier = threading.Barrier(4)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(15):
                if i % 3:
                    audit_record(actor=None, action=Action.LOGIN_FAILED, target=f"{n}-{i}")
                else:
                    bulk_insert(
                        [
                            audit_entry(actor=None, action=Action.LOGIN_FAILED, target=f"{n}b{k}")
                            for k in range(4)
                        ]
                    )
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    hashes = list(AuditEntry.objects.values_list("prev_hash", flat=True))
    assert len(hashes) == len(set(hashes))  # no two entries follow the same one
    assert "intact" in _verify()


def test_export_writes_json_lines_with_the_hashes(trail, tmp_path):
    out = io.StringIO()
    call_command("audit_export", "--since", str(trail[1]), stdout=out)
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["id"] for line in lines] == trail[2:]
    entry = AuditEntry.objects.get(pk=trail[2])
    assert lines[0]["hash"] == entry.hash and lines[0]["prev_hash"] == entry.prev_hash
    assert lines[0]["actor"] == "ocu" and lines[0]["action"] == "member_added"
    assert lines[1]["prev_hash"] == lines[0]["hash"]
    target = tmp_path / "audit.jsonl"
    call_command("audit_export", "--since", "2000-01-01", "--output", str(target))
    assert [json.loads(line)["id"] for line in target.read_text().splitlines()] == trail


def test_export_follows_new_entries(trail, world, tmp_path, monkeypatch):
    target = tmp_path / "audit.jsonl"
    call_command("audit_export", "--output", str(target))
    shipped = [json.loads(line)["id"] for line in target.read_text().splitlines()]
    audit_record(actor=world.ocu, action=Action.LOGOUT)
    # Following: a second look picks up what was written since the first.
    call_command(
        "audit_export",
        "--since",
        str(shipped[-1]),
        "--follow",
        "--interval",
        "0",
        "--polls",
        "2",
        "--output",
        str(target),
    )
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["id"] for line in lines] == _ids()
    assert lines[-1]["action"] == "logout"


@pytest.mark.django_db(transaction=True)
def test_following_writes_entries_committed_while_it_runs(world, tmp_path):
    target = tmp_path / "audit.jsonl"
    before = _ids()

    def follow():
        try:
            call_command(
                "audit_export",
                "--follow",
                "--interval",
                "0.05",
                "--polls",
                "200",
                "--output",
                str(target),
            )
        finally:
            connection.close()

    thread = threading.Thread(target=follow)
    thread.start()
    deadline = time.monotonic() + 10
    while (not target.exists() or not target.read_text()) and time.monotonic() < deadline:
        time.sleep(0.02)
    audit_record(actor=world.ocu, action=Action.LOGOUT, target="while following")
    thread.join()
    lines = [json.loads(line) for line in target.read_text().splitlines()]
    assert [line["id"] for line in lines] == _ids() == [*before, lines[-1]["id"]]
    assert lines[-1]["target"] == "while following"
    assert lines[-1]["prev_hash"] == lines[-2]["hash"]


def test_export_refuses_a_since_it_cannot_read(db):
    with pytest.raises(CommandError, match="--since"):
        call_command("audit_export", "--since", "yesterday", stdout=io.StringIO())


@pytest.mark.django_db(transaction=True)
def test_the_migration_seals_the_entries_written_before_the_chain():
    before = [("cencomm", "0005_seizure_review_undone")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps.get_model("cencomm", "AuditEntry")
    for name in ("one", "two", "three"):
        old.objects.create(actor_name=name, action="login", ip="2001:DB8::1", data={"b": 1, "a": 2})
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.actor_name for e in entries] == ["one", "two", "three"]
    assert entries[0].prev_hash == GENESIS and entries[1].prev_hash == entries[0].hash
    audit_record(actor=None, action=Action.LOGIN_FAILED, data={"username": "four"})
    assert _verify().startswith("Audit trail intact: 4 entries")
