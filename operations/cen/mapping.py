"""How a seizure of the simplified form becomes a CEN record: the one mapping module.

Every vocabulary of the form (core/vocabularies.py) maps to a CEN-style code
here, and nowhere else. docs/cen-mapping.md explains each column and what is never
transferred. The record is non-nominal: nothing that names or identifies a person
is read from the seizure at all (``SOURCE_FIELDS`` is the complete list).

The content hash is the sha256 of the record in canonical JSON (sorted keys, no
spaces, decimals normalised, dates in ISO 8601), so the same seizure always gives
the same hash, whichever run sent it and whatever the database gives back.
"""

import hashlib
import json
from decimal import Decimal

from core.vocabularies import (
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    LocationType,
    TransportMode,
    Unit,
)

SOURCE_SYSTEM = "CENCOMM"
# Bump when a mapping below changes: the version is part of every record's hash.
MAPPING_VERSION = 1

COMMODITY_CATEGORY = {
    CommodityCategory.DRUGS: "DRUGS",
    CommodityCategory.PRECURSORS: "PRECURSORS",
    CommodityCategory.TOBACCO: "TOBACCO",
    CommodityCategory.ALCOHOL: "ALCOHOL",
    CommodityCategory.MEDICINES: "MEDICINES_HEALTH_SAFETY",
    CommodityCategory.IPR: "IPR_COUNTERFEIT",
    CommodityCategory.CITES: "CITES_FAUNA_FLORA",
    CommodityCategory.ENVIRONMENT: "ENVIRONMENT_WASTE_ODS",
    CommodityCategory.CULTURAL_HERITAGE: "CULTURAL_HERITAGE",
    CommodityCategory.WEAPONS: "WEAPONS_EXPLOSIVES",
    CommodityCategory.CURRENCY: "CASH_BNI",
    CommodityCategory.OTHER: "OTHER",
}

# The sections of the WCO Illicit Trade Report, where analysts group commodities.
ITR_SECTION = {
    CommodityCategory.DRUGS: "DRUGS",
    CommodityCategory.PRECURSORS: "DRUGS",
    CommodityCategory.TOBACCO: "REVENUE",
    CommodityCategory.ALCOHOL: "REVENUE",
    CommodityCategory.MEDICINES: "IPR_HEALTH_SAFETY",
    CommodityCategory.IPR: "IPR_HEALTH_SAFETY",
    CommodityCategory.CITES: "ENVIRONMENT",
    CommodityCategory.ENVIRONMENT: "ENVIRONMENT",
    CommodityCategory.CULTURAL_HERITAGE: "CULTURAL_HERITAGE",
    CommodityCategory.WEAPONS: "SECURITY",
    CommodityCategory.CURRENCY: "MONEY_LAUNDERING",
    CommodityCategory.OTHER: "OTHER",
}

# UN/ECE Recommendation 20 unit codes. Rec 20 has no code for cigarette sticks, which
# CEN tobacco templates count separately from other pieces: STICKS is our extension.
UNIT = {
    Unit.KG: "KGM",
    Unit.G: "GRM",
    Unit.LITRE: "LTR",
    Unit.PIECES: "H87",
    Unit.STICKS: "STICKS",
    Unit.PACKS: "PK",
    Unit.UNITS: "C62",
}
KILOGRAMS_PER_UNIT = {Unit.KG: Decimal(1), Unit.G: Decimal("0.001")}

LOCATION_TYPE = {
    LocationType.AIRPORT: "AIRPORT",
    LocationType.SEAPORT: "SEAPORT",
    LocationType.LAND_BORDER: "LAND_BORDER_CROSSING",
    LocationType.RAIL: "RAIL_BORDER",
    LocationType.POSTAL: "POSTAL_EXPRESS_CENTRE",
    LocationType.INLAND: "INLAND_CONTROL",
}

# UN/ECE Recommendation 19 modes by name, with the customs extensions CEN's
# conveyance section uses (express courier, pedestrian).
TRANSPORT_MODE = {
    TransportMode.AIR: "AIR",
    TransportMode.SEA: "MARITIME",
    TransportMode.ROAD: "ROAD",
    TransportMode.RAIL: "RAIL",
    TransportMode.POSTAL: "POSTAL",
    TransportMode.EXPRESS: "EXPRESS_COURIER",
    TransportMode.PEDESTRIAN: "PEDESTRIAN",
}

DETECTION_METHOD = {
    DetectionMethod.RISK_PROFILING: "RISK_PROFILING_TARGETING",
    DetectionMethod.INTELLIGENCE: "INTELLIGENCE_TIP_OFF",
    DetectionMethod.ROUTINE_CONTROL: "ROUTINE_CONTROL",
    DetectionMethod.SCANNER: "NON_INTRUSIVE_SCANNER",
    DetectionMethod.DETECTOR_DOG: "DETECTOR_DOG",
    DetectionMethod.RANDOM_CHECK: "RANDOM_SELECTION",
    DetectionMethod.OTHER: "OTHER",
}

DIRECTION = {
    Direction.IMPORT: "IMPORT",
    Direction.EXPORT: "EXPORT",
    Direction.TRANSIT: "TRANSIT",
    Direction.TRANSHIPMENT: "TRANSHIPMENT",
    Direction.DOMESTIC: "DOMESTIC",
}

CONCEALMENT = {
    Concealment.NOT_CONCEALED: "NOT_CONCEALED",
    Concealment.LUGGAGE: "IN_LUGGAGE",
    Concealment.ON_BODY: "ON_BODY",
    Concealment.IN_BODY: "IN_BODY",
    Concealment.FALSE_COMPARTMENT: "FALSE_BOTTOM_COMPARTMENT",
    Concealment.MIXED_WITH_CARGO: "MIXED_WITH_LEGITIMATE_CARGO",
    Concealment.MISDECLARED: "MISDECLARED_GOODS",
    Concealment.VEHICLE: "IN_VEHICLE_STRUCTURE",
    Concealment.CONTAINER: "IN_CONTAINER_STRUCTURE",
    Concealment.POSTAL_ITEM: "IN_POSTAL_ITEM",
    Concealment.INSIDE_OTHER_GOODS: "INSIDE_OTHER_GOODS",
    Concealment.OTHER: "OTHER",
}

# Each CEN column fed by a vocabulary: (source field, mapping, source vocabulary).
VOCABULARY_MAPPINGS = {
    "commodity_category": ("commodity_category", COMMODITY_CATEGORY, CommodityCategory),
    "itr_section": ("commodity_category", ITR_SECTION, CommodityCategory),
    "unit_code": ("unit", UNIT, Unit),
    "location_type": ("location_type", LOCATION_TYPE, LocationType),
    "transport_mode": ("transport_mode", TRANSPORT_MODE, TransportMode),
    "detection_method": ("detection_method", DETECTION_METHOD, DetectionMethod),
    "direction": ("direction", DIRECTION, Direction),
    "concealment_method": ("concealment", CONCEALMENT, Concealment),
}

# The seizure fields the transfer reads: the complete list. Reporter, reviewer,
# concealment details, rejection reason and the alert message are never read.
SOURCE_FIELDS = (
    "pk",
    "client_uuid",
    "reporting_country",
    "seizure_date",
    "place",
    "location_type",
    "transport_mode",
    "detection_method",
    "commodity_category",
    "commodity_description",
    "hs_code",
    "quantity",
    "unit",
    "estimated_value",
    "currency",
    "direction",
    "departure_country",
    "destination_country",
    "transit_countries",
    "concealment",
    "offenders_count",
)

# The CEN columns that make up a record, and so its hash.
RECORD_FIELDS = (
    "source_system",
    "operation_code",
    "seizure_uuid",
    "mapping_version",
    "reporting_country",
    "seizure_date",
    "location_type",
    "place",
    "direction",
    "commodity_category",
    "itr_section",
    "commodity_description",
    "hs_code",
    "quantity",
    "unit_code",
    "quantity_kg",
    "estimated_value",
    "currency",
    "transport_mode",
    "detection_method",
    "concealment_method",
    "departure_country",
    "destination_country",
    "transit_countries",
    "offenders_count",
)


class MappingError(ValueError):
    """A seizure value that has no CEN code: the mapping must be extended first."""


def _upper(value) -> str | None:
    """An ISO code (country, currency) in capitals; empty means not given."""
    value = (value or "").strip().upper()
    return value or None


def _text(value) -> str | None:
    value = (value or "").strip()
    return value or None


def cen_record(seizure: dict, *, operation_code: str) -> dict:
    """The CEN record for one seizure (a dict of ``SOURCE_FIELDS``), with its hash."""
    return cen_record_json(seizure, operation_code=operation_code)[0]


def cen_record_json(seizure: dict, *, operation_code: str) -> tuple[dict, str]:
    """The CEN record with its hash, and its canonical JSON (what the hash is of).

    Called once per seizure per run (100,000 times for a large operation), so the
    vocabulary look-ups are plain dictionary reads; a value without a CEN code raises
    ``MappingError`` naming the field.
    """
    unit = seizure["unit"]
    quantity = Decimal(seizure["quantity"])
    per_kg = KILOGRAMS_PER_UNIT.get(unit)
    category = seizure["commodity_category"]
    concealment = seizure["concealment"]
    try:
        record = {
            "source_system": SOURCE_SYSTEM,
            "operation_code": operation_code,
            "seizure_uuid": seizure["client_uuid"],
            "mapping_version": MAPPING_VERSION,
            "reporting_country": _upper(seizure["reporting_country"]),
            "seizure_date": seizure["seizure_date"],
            "location_type": LOCATION_TYPE[seizure["location_type"]],
            "place": seizure["place"].strip(),
            "direction": DIRECTION[seizure["direction"]],
            "commodity_category": COMMODITY_CATEGORY[category],
            "itr_section": ITR_SECTION[category],
            "commodity_description": seizure["commodity_description"].strip(),
            "hs_code": _text(seizure["hs_code"]),
            "quantity": quantity,
            "unit_code": UNIT[unit],
            "quantity_kg": quantity * per_kg if per_kg is not None else None,
            "estimated_value": seizure["estimated_value"],
            "currency": _upper(seizure["currency"]),
            "transport_mode": TRANSPORT_MODE[seizure["transport_mode"]],
            "detection_method": DETECTION_METHOD[seizure["detection_method"]],
            "concealment_method": CONCEALMENT[concealment] if concealment else None,
            "departure_country": _upper(seizure["departure_country"]),
            "destination_country": _upper(seizure["destination_country"]),
            "transit_countries": [
                code.strip().upper() for code in seizure["transit_countries"] or []
            ],
            "offenders_count": seizure["offenders_count"],
        }
    except KeyError:
        raise MappingError(_unmapped(seizure)) from None
    canonical = _encode(record)
    record["content_hash"] = hashlib.sha256(canonical.encode()).hexdigest()
    return record, canonical


def _unmapped(seizure: dict) -> str:
    for column, (source, mapping, _vocabulary) in VOCABULARY_MAPPINGS.items():
        value = seizure.get(source)
        if value and value not in mapping:
            return f"{column}: no CEN code for {value!r}"
    return "a seizure field is missing"


def _canonical_default(value):
    """What JSON cannot say itself: decimals, dates and uuids, each one way only."""
    if isinstance(value, Decimal):
        # 12.500 and 12.5 are the same quantity; "f" keeps 100 from becoming 1E+2.
        return format(value.normalize(), "f")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


_encode = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_canonical_default
).encode


def canonical_json(record: dict) -> str:
    """The record's mapped fields as canonical JSON (sorted keys, no spaces)."""
    if len(record) != len(RECORD_FIELDS):
        record = {field: record[field] for field in RECORD_FIELDS}
    return _encode(record)


def content_hash(record: dict) -> str:
    """sha256 of the record's canonical JSON: the same for a record and its stored row."""
    return hashlib.sha256(canonical_json(record).encode()).hexdigest()


def cen_label(column: str, code: str | None) -> str:
    """One CEN code named in the current language (the code itself when unknown)."""
    if not code or column not in VOCABULARY_MAPPINGS:
        return code or ""
    _source, mapping, vocabulary = VOCABULARY_MAPPINGS[column]
    for value, mapped in mapping.items():
        if mapped == code:
            return str(vocabulary(value).label)
    return code


def cen_labels() -> dict[str, dict[str, str]]:
    """CEN codes named in the current language, through the form's own vocabularies."""
    labels: dict[str, dict[str, str]] = {}
    for column, (_source, mapping, vocabulary) in VOCABULARY_MAPPINGS.items():
        if column == "itr_section":
            continue
        labels[column] = {code: str(vocabulary(value).label) for value, code in mapping.items()}
    return labels
