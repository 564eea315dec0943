import datetime
import uuid

import pytest

from operations.models import Operation
from operations.services import operation_set_status


@pytest.fixture
def active_world(world):
    operation_set_status(operation=world.operation, status=Operation.Status.ACTIVE, actor=world.ocu)
    world.operation.refresh_from_db()
    return world


def seizure_data(**overrides) -> dict:
    data = {
        "seizure_date": (datetime.date.today() - datetime.timedelta(days=1)).isoformat(),
        "reporting_country": "FR",
        "place": "Paris-Charles de Gaulle airport",
        "location_type": "airport",
        "transport_mode": "air",
        "detection_method": "scanner",
        "commodity_category": "drugs",
        "commodity_description": "Cocaine in suitcase lining",
        "quantity": "12.5",
        "unit": "kg",
        "direction": "import",
        "departure_country": "CO",
        "destination_country": "FR",
        "transit_countries": ["ES"],
        "hs_code": "",
        "estimated_value": "",
        "currency": "",
        "concealment": "luggage",
        "concealment_details": "",
        "offenders_count": "1",
    }
    data.update(overrides)
    return data


def new_uuid() -> str:
    return str(uuid.uuid4())
