import datetime
import uuid
from decimal import Decimal

from operations.cen.models import CenSeizure


def cen_record(**fields) -> CenSeizure:
    """A CEN row as a transfer would have written it, in the `cen` database."""
    values = {
        "source_system": "CENCOMM",
        "operation_code": "PAST-2024",
        "seizure_uuid": uuid.uuid4(),
        "mapping_version": 1,
        "reporting_country": "FR",
        "seizure_date": datetime.date(2024, 5, 1),
        "location_type": "AIRPORT",
        "place": "Paris-Charles de Gaulle airport",
        "direction": "IMPORT",
        "commodity_category": "DRUGS",
        "itr_section": "DRUGS",
        "commodity_description": "Cocaine",
        "quantity": Decimal("1"),
        "unit_code": "KGM",
        "transport_mode": "AIR",
        "detection_method": "NON_INTRUSIVE_SCANNER",
        "concealment_method": "IN_LUGGAGE",
        "departure_country": "CO",
        "destination_country": "FR",
        "content_hash": "0" * 64,
    }
    values.update(fields)
    return CenSeizure.objects.using("cen").create(**values)
