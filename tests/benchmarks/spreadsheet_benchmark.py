"""Benchmark: importing and exporting seizure spreadsheets of 10,000 rows.

    CENCOMM_TEST_DB_SUFFIX=_bench .venv/bin/python tests/benchmarks/spreadsheet_benchmark.py
    … --rows 10000 --json results.json

It creates throwaway test databases (as transfer_benchmark.py does), an active
operation with a reporting member, and times ``seizures_import`` — the service behind
the import page, the API and ``manage.py import_seizures``: parsing, every row checked
by the same rules as the form, all-or-nothing storage with the seizure alerts and their
events — on a CSV file and on an XLSX workbook of N rows, then the CSV and XLSX exports
of the N seizures. Not part of the pytest run; results go in docs/performance.md.
"""

import argparse
import csv
import datetime
import io
import json
import random
import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from openpyxl import Workbook
from standalone import on_postgresql, postgresql_version, throwaway_databases

from core.vocabularies import CommodityCategory
from groups.models import Administration, Region, Role
from groups.services import membership_add, profile_ensure
from operations.models import Seizure
from operations.services import operation_create, operation_set_status
from operations.spreadsheets import COLUMNS, export_csv, export_xlsx, seizures_import

PLACES = ["Rotterdam port", "Frankfurt airport", "Algeciras port", "Terespol road crossing"]
GOODS = [
    ("drugs", "kg", "Cocaine in banana boxes"),
    ("tobacco", "sticks", "Cigarettes in a trailer's false floor"),
    ("ipr", "pieces", "Counterfeit watches"),
    ("cites", "kg", "Pangolin scales"),
]


def make_operation(code: str):
    administration, _created = Administration.objects.get_or_create(
        country="NL", defaults={"name": "Dutch Customs", "region": Region.EUROPE}
    )
    users = get_user_model().objects
    coordinator = users.get_or_create(username="bench.ocu")[0]
    reporter = users.get_or_create(username="bench.reporter")[0]
    for user in (coordinator, reporter):
        profile_ensure(user=user, administration=administration)
    today = datetime.date.today()
    operation = operation_create(
        code=code,
        name=f"Spreadsheet benchmark {code}",
        commodity_focus=CommodityCategory.DRUGS,
        coordinating_administration=administration,
        planned_start=today - datetime.timedelta(days=30),
        planned_end=today + datetime.timedelta(days=30),
        created_by=coordinator,
    )
    operation_set_status(operation=operation, status="active", actor=coordinator)
    membership_add(group=operation.group, user=reporter, role=Role.MEMBER, added_by=coordinator)
    operation.refresh_from_db()
    return operation, reporter


def rows(count: int) -> list[list[str]]:
    """Valid rows, varied with a fixed seed, in the template's column order."""
    rng = random.Random(2026)
    today = datetime.date.today()
    result = []
    for number in range(count):
        category, unit, description = rng.choice(GOODS)
        row = {
            "seizure_date": (today - datetime.timedelta(days=rng.randrange(1, 30))).isoformat(),
            "reporting_country": "NL",
            "place": rng.choice(PLACES),
            "location_type": "seaport",
            "transport_mode": "sea",
            "detection_method": rng.choice(["scanner", "risk_profiling", "detector_dog"]),
            "commodity_category": category,
            "commodity_description": f"{description} ({number})",
            "quantity": str(rng.randrange(1, 5000)),
            "unit": unit,
            "direction": "import",
            "departure_country": rng.choice(["EC", "CO", "BR", "CN"]),
            "destination_country": "NL",
            "transit_countries": rng.choice(["", "ES", "ES, PT"]),
            "hs_code": "",
            "estimated_value": "",
            "currency": "",
            "concealment": "",
            "concealment_details": "",
            "offenders_count": str(rng.randrange(0, 3)),
        }
        result.append([row.get(column, "") for column in COLUMNS])
    return result


def csv_file(table: list[list[str]]) -> bytes:
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow(COLUMNS)
    writer.writerows(table)
    return output.getvalue().encode()


def xlsx_file(table: list[list[str]]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Seizures")
    sheet.append(COLUMNS)
    for row in table:
        sheet.append(row)
    output = io.BytesIO()
    workbook.save(output)
    return output.getvalue()


def timed(action):
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    options = parser.parse_args()
    table = rows(options.rows)
    files = {"CSV": csv_file(table), "XLSX": xlsx_file(table)}
    results = []
    if not on_postgresql():
        return 2
    with throwaway_databases():
        for kind, data in files.items():
            operation, reporter = make_operation(f"SHEET-{kind}")
            report, seconds = timed(
                lambda o=operation, r=reporter, d=data: seizures_import(
                    reporter=r, operation=o, data=d
                )
            )
            assert report.ok and report.created == options.rows, report
            assert Seizure.objects.filter(operation=operation).count() == options.rows
            results.append({"step": f"import {kind}", "bytes": len(data), "seconds": seconds})
        export = {"CSV": export_csv, "XLSX": export_xlsx}
        for kind, function in export.items():
            data, seconds = timed(lambda f=function: f(operation=operation, actor=reporter))
            results.append({"step": f"export {kind}", "bytes": len(data), "seconds": seconds})
        database = postgresql_version()

    print(f"{options.rows:,} rows, PostgreSQL {database}, Python {sys.version.split()[0]}")
    print("| step | file size | seconds | rows/s |")
    print("|---|---|---|---|")
    for result in results:
        result["rows_per_second"] = round(options.rows / result["seconds"])
        print(
            f"| {result['step']} | {result['bytes'] / 1e6:.2f} MB | {result['seconds']:.2f} "
            f"| {result['rows_per_second']:,} |"
        )
    if options.json:
        options.json.write_text(json.dumps({"rows": options.rows, "steps": results}, indent=2))
    slow = [r["step"] for r in results if r["step"].startswith("import") and r["seconds"] > 30]
    print("target (each import of 10,000 rows in < 30 s):", "NOT met" if slow else "met")
    return 1 if slow else 0


if __name__ == "__main__":
    sys.exit(main())
