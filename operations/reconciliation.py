"""Reconciliation: does CEN hold exactly an operation's validated seizures?

Compared by count, by seizure uuid and by content hash. On PostgreSQL both sides are
first reduced to one digest (count and sha256 of "uuid:hash" lines in uuid order);
only when the digests differ does every pair come over from CEN. Rows that the
attempt did not write itself are also hashed again from their own CEN columns, so a
row changed in CEN behind its hash's back is caught. A transfer run marks its
operation `transferred` only when this says ``ok``.
"""

import hashlib
from dataclasses import dataclass, field

from django.db import connections

from .cen.mapping import RECORD_FIELDS, SOURCE_FIELDS, SOURCE_SYSTEM, cen_record, content_hash
from .cen.models import CenSeizure
from .models import Operation, Seizure
from .transfer_report import REPORT_LIST_LIMIT

CEN = "cen"


@dataclass
class Reconciliation:
    expected: int
    in_cen: int
    missing: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    differing: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.missing or self.unexpected or self.differing) and (
            self.expected == self.in_cen
        )

    def as_report(self) -> dict:
        return {
            "ok": self.ok,
            "expected": self.expected,
            "in_cen": self.in_cen,
            "missing_count": len(self.missing),
            "unexpected_count": len(self.unexpected),
            "differing_count": len(self.differing),
            "missing": self.missing[:REPORT_LIST_LIMIT],
            "unexpected": self.unexpected[:REPORT_LIST_LIMIT],
            "differing": self.differing[:REPORT_LIST_LIMIT],
        }


def cen_reconcile(
    *,
    operation: Operation,
    known_hashes: dict[str, str] | None = None,
    written_now: set[str] | None = None,
) -> Reconciliation:
    """Does CEN hold exactly the operation's validated seizures, by count and by hash?

    ``known_hashes`` are the records this run just mapped (uuid → hash); every other
    validated seizure is mapped again here. Every CEN row that this attempt did not
    write itself (``written_now``: written from the very JSON its hash was made of) is
    also hashed again from its own columns, so a row changed in CEN behind its hash's
    back is caught as well as a row whose hash differs from ours.
    """
    written_now = written_now or set()
    expected = _expected_hashes(operation, known_hashes or {})
    in_cen_rows = CenSeizure.objects.using(CEN).filter(
        source_system=SOURCE_SYSTEM, operation_code=operation.code
    )
    if _digest_in_cen(operation.code) == _digest(expected):
        # Same count, same uuids, same hashes: no need to bring every pair over.
        in_cen = dict(expected)
    else:
        in_cen = {
            str(seizure_uuid): stored_hash
            for seizure_uuid, stored_hash in in_cen_rows.values_list(
                "seizure_uuid", "content_hash"
            ).iterator(chunk_size=10_000)
        }
    altered = _altered_in_cen(in_cen_rows, [key for key in in_cen if key not in written_now])
    differing = {key for key in expected.keys() & in_cen.keys() if expected[key] != in_cen[key]}
    return Reconciliation(
        expected=len(expected),
        in_cen=len(in_cen),
        missing=sorted(expected.keys() - in_cen.keys()),
        unexpected=sorted(in_cen.keys() - expected.keys()),
        differing=sorted(differing | altered),
    )


def _expected_hashes(operation: Operation, known_hashes: dict[str, str]) -> dict[str, str]:
    """uuid → content hash of every validated seizure, mapping only those not known yet."""
    expected: dict[str, str] = {}
    validated = Seizure.objects.filter(operation=operation, status=Seizure.Status.VALIDATED)
    unknown = []
    for pk, seizure_uuid in validated.values_list("pk", "client_uuid").iterator(chunk_size=10_000):
        key = str(seizure_uuid)
        if key in known_hashes:
            expected[key] = known_hashes[key]
        else:
            unknown.append(pk)
    for start in range(0, len(unknown), 5000):
        rows = Seizure.objects.filter(pk__in=unknown[start : start + 5000]).values(*SOURCE_FIELDS)
        for row in rows:
            record = cen_record(row, operation_code=operation.code)
            expected[str(record["seizure_uuid"])] = record["content_hash"]
    return expected


def _altered_in_cen(in_cen_rows, to_check: list[str]) -> set[str]:
    """The uuids among ``to_check`` whose CEN columns no longer give their stored hash."""
    altered: set[str] = set()
    for start in range(0, len(to_check), 5000):
        rows = in_cen_rows.filter(seizure_uuid__in=to_check[start : start + 5000]).values(
            *RECORD_FIELDS, "content_hash"
        )
        for row in rows:
            if content_hash(row) != row["content_hash"]:
                altered.add(str(row["seizure_uuid"]))
    return altered


def _digest(hashes: dict[str, str]) -> tuple[int, str]:
    """Count and sha256 of "uuid:hash" lines in uuid order (the order PostgreSQL sorts uuids in)."""
    text = "\n".join(f"{key}:{hashes[key]}" for key in sorted(hashes))
    return len(hashes), hashlib.sha256(text.encode()).hexdigest()


def _digest_in_cen(operation_code: str) -> tuple[int, str] | None:
    """The same digest computed by PostgreSQL over CEN's rows; None elsewhere."""
    connection = connections[CEN]
    if connection.vendor != "postgresql":
        return None
    table = connection.ops.quote_name(CenSeizure._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), encode(sha256(convert_to(coalesce(string_agg("  # noqa: S608
            "seizure_uuid::text || ':' || content_hash, E'\\n' ORDER BY seizure_uuid), ''),"
            f" 'UTF8')), 'hex') FROM {table} WHERE source_system = %s AND operation_code = %s",
            [SOURCE_SYSTEM, operation_code],
        )
        count, digest = cursor.fetchone()
    return count, digest
