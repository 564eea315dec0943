"""The demo CEN database's past: seizures of earlier demo operations, already transferred.

So that a planned operation's page has a CEN history to show and the RILO page has
CEN records to count. Written through the transfer's own mapping, with fixed seizure
uuids: running it again inserts nothing.
"""

import datetime
import random
import uuid
from decimal import Decimal

from core.vocabularies import Concealment, DetectionMethod, LocationType, TransportMode
from operations.cen.mapping import cen_record
from operations.cen.models import CenSeizure
from operations.cen.selectors import CEN

DEMO_NAMESPACE = uuid.UUID("6f1c2a4e-8d3b-4c1e-9a57-2e0b7d51c0aa")

# reporting country, place, location type, transport mode, departure, destination
ROUTES = [
    ("NL", "Port of Rotterdam", LocationType.SEAPORT, TransportMode.SEA, "EC", "NL"),
    ("BE", "Port of Antwerp", LocationType.SEAPORT, TransportMode.SEA, "CO", "BE"),
    ("FR", "Paris-Charles de Gaulle airport", LocationType.AIRPORT, TransportMode.AIR, "BR", "FR"),
    ("DE", "Frankfurt airport", LocationType.AIRPORT, TransportMode.AIR, "BR", "DE"),
    ("ES", "Port of Algeciras", LocationType.SEAPORT, TransportMode.SEA, "CO", "ES"),
    ("FR", "Le Havre port", LocationType.SEAPORT, TransportMode.SEA, "EC", "FR"),
    ("BE", "Brussels airport", LocationType.AIRPORT, TransportMode.AIR, "NG", "BE"),
    ("DE", "Leipzig express hub", LocationType.POSTAL, TransportMode.EXPRESS, "NL", "DE"),
]
DETECTIONS = [
    DetectionMethod.RISK_PROFILING,
    DetectionMethod.SCANNER,
    DetectionMethod.DETECTOR_DOG,
    DetectionMethod.INTELLIGENCE,
    DetectionMethod.ROUTINE_CONTROL,
]
CONCEALMENTS = {
    TransportMode.SEA: [Concealment.CONTAINER, Concealment.MIXED_WITH_CARGO],
    TransportMode.AIR: [Concealment.LUGGAGE, Concealment.ON_BODY, Concealment.IN_BODY],
    TransportMode.EXPRESS: [Concealment.POSTAL_ITEM, Concealment.INSIDE_OTHER_GOODS],
}
# Code, and how many days before the first run it started: the codes and uuids are
# fixed, so a later run (another day) finds every record already there.
PAST_OPERATIONS = [("DEMO-PAST-1", 1000), ("DEMO-PAST-2", 400), ("DEMO-PAST-3", 120)]
PER_OPERATION = 24


def _records() -> list[dict]:
    chooser = random.Random(2025)  # the same past on every run
    records = []
    today = datetime.date.today()
    for code, days_ago in PAST_OPERATIONS:
        for number in range(PER_OPERATION):
            reporting, place, location, transport, departure, destination = chooser.choice(ROUTES)
            seizure = {
                "client_uuid": uuid.uuid5(DEMO_NAMESPACE, f"{code}/{number}"),
                "reporting_country": reporting,
                "seizure_date": today - datetime.timedelta(days=days_ago - chooser.randrange(30)),
                "location_type": location,
                "place": place,
                "direction": "import",
                "commodity_category": "drugs",
                "commodity_description": "Cocaine",
                "hs_code": "",
                "quantity": str(Decimal(chooser.randrange(5, 900)) / 10),
                "unit": "kg",
                "estimated_value": None,
                "currency": "",
                "transport_mode": transport,
                "detection_method": chooser.choice(DETECTIONS),
                "concealment": chooser.choice(CONCEALMENTS.get(transport, [""])),
                "departure_country": departure,
                "destination_country": destination,
                "transit_countries": [],
                "offenders_count": chooser.randrange(0, 3),
            }
            records.append(cen_record(seizure, operation_code=code))
    return records


def demo_cen_history_ensure() -> int:
    """Insert the demo's past CEN seizures that are missing; how many were inserted."""
    past = CenSeizure.objects.using(CEN).filter(
        operation_code__in=[code for code, _year in PAST_OPERATIONS]
    )
    before = past.count()
    CenSeizure.objects.using(CEN).bulk_create(
        [CenSeizure(**record) for record in _records()], ignore_conflicts=True
    )
    return past.count() - before
