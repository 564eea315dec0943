"""Synthetic seizures for the demo world and the benchmarks: plausible, validated, fast."""

import datetime
import random
import uuid
from decimal import Decimal

from core.vocabularies import (
    UNITS_BY_CATEGORY,
    CommodityCategory,
    DetectionMethod,
    Direction,
    LocationType,
    TransportMode,
)
from operations.models import Operation, Seizure
from operations.services import seizures_validate_many
from operations.spreadsheets import UUID_NAMESPACE, seizures_report_many

DESCRIPTIONS = {
    "drugs": [
        "Cocaine in suitcase lining",
        "Heroin capsules",
        "Cannabis resin",
        "Methamphetamine crystals",
    ],
    "tobacco": ["Cigarettes without tax stamps", "Water-pipe tobacco"],
    "currency": ["Undeclared euro banknotes", "US dollars in shoes"],
    "medicines": ["Falsified antibiotics", "Unlicensed slimming pills"],
    "ipr": ["Counterfeit watches", "Fake branded handbags"],
    "cites": ["Pangolin scales", "Ivory carvings"],
}
PLACES = [
    ("Paris-Charles de Gaulle airport", LocationType.AIRPORT, TransportMode.AIR),
    ("Port of Rotterdam", LocationType.SEAPORT, TransportMode.SEA),
    ("Frankfurt airport", LocationType.AIRPORT, TransportMode.AIR),
    ("Antwerp container terminal", LocationType.SEAPORT, TransportMode.SEA),
    ("Rekem motorway border post", LocationType.LAND_BORDER, TransportMode.ROAD),
    ("Leipzig express hub", LocationType.POSTAL, TransportMode.EXPRESS),
]
ORIGINS = ["CO", "BR", "EC", "PE", "NG", "CN", "TR", "AE", "MA"]


def _row(rng: random.Random, operation: Operation, country: str) -> dict:
    category = rng.choice(list(DESCRIPTIONS))
    place, location, transport = rng.choice(PLACES)
    unit = rng.choice(UNITS_BY_CATEGORY[CommodityCategory(category)])
    last_day = min(operation.planned_end, datetime.date.today())
    span = max(0, (last_day - operation.planned_start).days)
    return {
        "seizure_date": operation.planned_start + datetime.timedelta(days=rng.randint(0, span)),
        "reporting_country": country,
        "place": place,
        "location_type": location,
        "transport_mode": transport,
        "detection_method": rng.choice(DetectionMethod.values),
        "commodity_category": category,
        "commodity_description": rng.choice(DESCRIPTIONS[category]),
        "hs_code": "",
        "quantity": Decimal(rng.randint(1, 5000)) / Decimal(10),
        "unit": unit,
        "estimated_value": None,
        "currency": "",
        "direction": Direction.IMPORT,
        "departure_country": rng.choice(ORIGINS),
        "destination_country": country,
        "transit_countries": [],
        "concealment": "",
        "concealment_details": "",
        "offenders_count": rng.randint(0, 3),
    }


def synthetic_seizures(*, operation: Operation, count: int, reporters: list, validator) -> int:
    """Make ``count`` validated seizures (deterministic ids: running again adds none)."""
    rng = random.Random(f"{operation.code}:{count}")
    wanted = {
        uuid.uuid5(UUID_NAMESPACE, f"demo:{operation.code}:{number}"): number
        for number in range(count)
    }
    present = set(
        Seizure.objects.filter(client_uuid__in=list(wanted)).values_list("client_uuid", flat=True)
    )
    by_reporter: dict[int, list] = {}
    for client_uuid, number in wanted.items():
        if client_uuid in present:
            continue
        reporter = reporters[number % len(reporters)]
        country = reporter.profile.administration.country
        by_reporter.setdefault(reporter.pk, []).append((client_uuid, _row(rng, operation, country)))
    created = 0
    for reporter in reporters:
        rows = by_reporter.get(reporter.pk, [])
        for start in range(0, len(rows), 20000):
            chunk = rows[start : start + 20000]
            seizures_report_many(
                reporter=reporter,
                operation=operation,
                administration=reporter.profile.administration,
                rows=chunk,
            )
            created += len(chunk)
    if created:
        seizures_validate_many(operation=operation, client_uuids=list(wanted), actor=validator)
    return created
