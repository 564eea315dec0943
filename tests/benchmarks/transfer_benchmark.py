"""Benchmark: the CEN transfer of 100,000 seizures into PostgreSQL, next to a naive loop.

    CENCOMM_TEST_DB_SUFFIX=_bench .venv/bin/python tests/benchmarks/transfer_benchmark.py
    … --seizures 100000 --naive 5000 --batch-size 2000

It creates throwaway test databases (test_cencomm_default_bench and
test_cencomm_cen_bench on the PostgreSQL of cencomm/settings_test.py), fills one
closed operation with validated seizures, times ``cen_transfer_run_foreground``
(batches, checkpoints and reconciliation included) and then a naive loop that
writes one CEN row at a time through the ORM (``get_or_create`` on the provenance
key, each row its own transaction), and drops the databases. The naive loop runs on
the first ``--naive`` seizures only (it would take minutes on all of them); its rate
is what is compared. Not part of the pytest run; results go in docs/performance.md.
"""

import argparse
import datetime
import json
import random
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from standalone import on_postgresql, postgresql_version, throwaway_databases

from core.vocabularies import (
    UNITS_BY_CATEGORY,
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    LocationType,
    TransportMode,
)
from groups.models import Administration, Region
from groups.services import profile_ensure
from operations.cen.mapping import SOURCE_FIELDS, cen_record
from operations.cen.models import CenSeizure
from operations.models import Operation, Seizure
from operations.services import operation_create, operation_set_status
from operations.transfer import cen_transfer_run_foreground

COUNTRIES = ["FR", "DE", "NL", "BE", "ES", "IT", "PL", "MA", "NG", "BR", "CN", "US"]


def make_operation(count: int) -> Operation:
    administrations = [
        Administration.objects.get_or_create(
            country=country, defaults={"name": f"Customs {country}", "region": Region.EUROPE}
        )[0]
        for country in COUNTRIES
    ]
    user = get_user_model().objects.create_user(username="bench", is_staff=True)
    profile_ensure(user=user, administration=administrations[0])
    today = datetime.date.today()
    operation = operation_create(
        code="BENCH-2026",
        name="Benchmark",
        commodity_focus=CommodityCategory.DRUGS,
        coordinating_administration=administrations[0],
        planned_start=today - datetime.timedelta(days=40),
        planned_end=today,
        created_by=user,
    )
    operation_set_status(operation=operation, status="active", actor=user)
    rng = random.Random(2026)
    batch = []
    for index in range(count):
        administration = administrations[index % len(administrations)]
        category = rng.choice(CommodityCategory.values)
        batch.append(
            Seizure(
                operation=operation,
                client_uuid=uuid.uuid4(),
                reported_by=user,
                reporting_administration=administration,
                reporting_country=administration.country,
                seizure_date=today - datetime.timedelta(days=rng.randrange(40)),
                place=f"Border post {index % 500}",
                location_type=rng.choice(LocationType.values),
                transport_mode=rng.choice(TransportMode.values),
                detection_method=rng.choice(DetectionMethod.values),
                commodity_category=category,
                commodity_description=f"Synthetic seizure {index}",
                hs_code=rng.choice(["", "240220", "293979"]),
                quantity=Decimal(rng.randrange(1, 10_000_000)) / 1000,
                unit=rng.choice(UNITS_BY_CATEGORY[category]),
                estimated_value=rng.choice([None, Decimal("1500.00")]),
                currency=rng.choice(["", "EUR"]),
                direction=rng.choice(Direction.values),
                departure_country=rng.choice(COUNTRIES),
                destination_country=rng.choice(COUNTRIES),
                transit_countries=rng.sample(COUNTRIES, rng.randrange(3)),
                concealment=rng.choice(["", *Concealment.values]),
                offenders_count=rng.choice([None, 0, 1, 2]),
                status=Seizure.Status.VALIDATED,
            )
        )
        if len(batch) == 5000:
            Seizure.objects.bulk_create(batch)
            batch = []
    Seizure.objects.bulk_create(batch)
    operation_set_status(operation=operation, status="closed", actor=user)
    operation.refresh_from_db()
    return operation


def naive_loop(operation: Operation, count: int) -> float:
    """One row at a time through the ORM, as a first version would write it."""
    started = time.perf_counter()
    seizures = Seizure.objects.filter(operation=operation, status="validated").order_by("pk")
    for seizure in seizures[:count]:
        row = {name: getattr(seizure, name) for name in SOURCE_FIELDS}
        record = cen_record(row, operation_code="NAIVE-" + operation.code)
        CenSeizure.objects.using("cen").get_or_create(
            source_system=record["source_system"],
            operation_code=record["operation_code"],
            seizure_uuid=record["seizure_uuid"],
            defaults=record,
        )
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seizures", type=int, default=100_000)
    parser.add_argument("--naive", type=int, default=5_000)
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    options = parser.parse_args()

    if not on_postgresql():
        return 2
    with throwaway_databases():
        started = time.perf_counter()
        operation = make_operation(options.seizures)
        setup_seconds = time.perf_counter() - started

        started = time.perf_counter()
        run = cen_transfer_run_foreground(operation=operation, batch_size=options.batch_size)
        transfer_seconds = time.perf_counter() - started
        assert run.state == "reconciled", run.report
        assert run.inserted == options.seizures

        naive_count = min(options.naive, options.seizures)
        naive_seconds = naive_loop(operation, naive_count)

        fast_rate = options.seizures / transfer_seconds
        naive_rate = naive_count / naive_seconds
        results = {
            "database": postgresql_version(),
            "seizures": options.seizures,
            "batch_size": options.batch_size or None,
            "batches": run.batches_done,
            "setup_seconds": round(setup_seconds, 2),
            "transfer_seconds": round(transfer_seconds, 2),
            "transfer_rate": round(fast_rate),
            "batch_phase_rate": round(run.rows_per_second),
            "naive_rows": naive_count,
            "naive_seconds": round(naive_seconds, 2),
            "naive_rate": round(naive_rate),
            "speed_up": round(fast_rate / naive_rate, 1),
        }

    print(f"Transfer of {results['seizures']:,} seizures ({results['batches']} batches):")
    print(
        f"  batched insert-or-ignore + checkpoint + reconciliation: "
        f"{results['transfer_seconds']:.2f} s = {results['transfer_rate']:,} seizures/s "
        f"(batch phase alone {results['batch_phase_rate']:,}/s)"
    )
    print(
        f"  naive one-row-at-a-time ORM loop ({results['naive_rows']:,} rows): "
        f"{results['naive_seconds']:.2f} s = {results['naive_rate']:,} seizures/s"
    )
    print(f"  speed-up: {results['speed_up']}x")
    if options.json:
        options.json.write_text(json.dumps(results, indent=2) + "\n")
    ok = results["transfer_seconds"] < 30 and results["speed_up"] >= 20
    print("  targets (100,000 in < 30 s, >= 20x naive):", "met" if ok else "NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
