"""The rules of the simplified seizure form, in one place.

Every door — the web form, the offline queue, the websocket, the REST API, the
spreadsheet import — hands raw values to ``clean_seizure_input`` and gets either
clean values or a ``ValidationError`` naming each bad field.
"""

import datetime
import re
import uuid
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import Invalid
from core.vocabularies import (
    UNITS_BY_CATEGORY,
    CommodityCategory,
    Concealment,
    DetectionMethod,
    Direction,
    LocationType,
    TransportMode,
    Unit,
)

from .countries import is_country, is_currency

HS_CODE = re.compile(r"^\d{4,10}$")
REQUIRED = [
    "seizure_date",
    "reporting_country",
    "place",
    "location_type",
    "transport_mode",
    "detection_method",
    "commodity_category",
    "commodity_description",
    "quantity",
    "unit",
    "direction",
]
CHOICES = {
    "location_type": LocationType,
    "transport_mode": TransportMode,
    "detection_method": DetectionMethod,
    "commodity_category": CommodityCategory,
    "unit": Unit,
    "direction": Direction,
    "concealment": Concealment,
}
TEXT_LIMITS = {
    "place": 200,
    "commodity_description": 300,
    "concealment_details": 500,
}
FIELDS = [
    *REQUIRED,
    "hs_code",
    "estimated_value",
    "currency",
    "departure_country",
    "destination_country",
    "transit_countries",
    "concealment",
    "concealment_details",
    "offenders_count",
]


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _decimal(value, field, errors, *, places: int) -> Decimal | None:
    text = _text(value).replace(" ", "").replace(",", ".")
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        errors[field] = _("Enter a number.")
        return None
    if not number.is_finite():
        errors[field] = _("Enter a number.")
        return None
    if abs(number) >= Decimal(10) ** (16 - places):
        errors[field] = _("This number is too large.")
        return None
    if number != number.quantize(Decimal(1).scaleb(-places)):
        errors[field] = _("Use at most %(places)d decimal places.") % {"places": places}
        return None
    return number


def _date(value, field, errors) -> datetime.date | None:
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    text = _text(value)
    if not text:
        return None
    try:
        return datetime.date.fromisoformat(text[:10])
    except ValueError:
        errors[field] = _("Enter a date as YYYY-MM-DD.")
        return None


def _countries(value) -> list[str] | None:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        parts = re.split(r"[\s,;]+", value.strip())
    elif isinstance(value, list | tuple):
        parts = [_text(part) for part in value]
    else:
        return None
    return [part.upper() for part in parts if part]


def clean_seizure_input(data: dict, *, operation, today: datetime.date | None = None) -> dict:
    """Check raw form values against the rules; return clean values or raise.

    The errors are a dict of field name to message, so each door can show them
    next to the right field, cell or JSON key.
    """
    today = today or datetime.date.today()
    errors: dict[str, str] = {}
    cleaned: dict = {}
    if not isinstance(data, dict):
        raise Invalid({"__all__": _("A seizure is a set of named fields.")})
    # In this order: later rules read what earlier ones cleaned (the unit its category,
    # the route its countries and direction).
    _check_fields_present(data, errors)
    _clean_choices(data, cleaned, errors)
    _clean_texts(data, cleaned, errors)
    _clean_seizure_date(data, cleaned, errors, operation=operation, today=today)
    _clean_countries(data, cleaned, errors)
    _clean_quantity(data, cleaned, errors)
    _check_unit_fits_category(cleaned, errors)
    _clean_hs_code(data, cleaned, errors)
    _clean_value_and_currency(data, cleaned, errors)
    _check_route(cleaned, errors)
    _clean_offenders(data, cleaned, errors)
    if errors:
        raise Invalid(errors)
    return cleaned


def _check_fields_present(data: dict, errors: dict) -> None:
    unknown = sorted(set(data) - set(FIELDS) - {"client_uuid"})
    if unknown:
        errors["__all__"] = _("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown[:10])}
    for field in REQUIRED:
        if _text(data.get(field)) == "":
            errors[field] = _("This field is required.")


def _clean_choices(data: dict, cleaned: dict, errors: dict) -> None:
    for field, choices in CHOICES.items():
        value = _text(data.get(field)).lower()
        if value and field not in errors:
            if value not in choices.values:
                errors[field] = _("“%(value)s” is not one of the allowed values.") % {
                    "value": value[:40]
                }
            else:
                cleaned[field] = value
        elif not value:
            cleaned[field] = ""


def _clean_texts(data: dict, cleaned: dict, errors: dict) -> None:
    for field, limit in TEXT_LIMITS.items():
        value = _text(data.get(field))
        if len(value) > limit:
            errors[field] = _("At most %(limit)d characters.") % {"limit": limit}
        cleaned[field] = value


def _clean_seizure_date(
    data: dict, cleaned: dict, errors: dict, *, operation, today: datetime.date
) -> None:
    seizure_date = _date(data.get("seizure_date"), "seizure_date", errors)
    if seizure_date is None:
        return
    tolerance = datetime.timedelta(days=settings.SEIZURE_DATE_TOLERANCE_DAYS)
    if seizure_date > today:
        errors["seizure_date"] = _("The date of seizure cannot be in the future.")
    elif not (
        operation.planned_start - tolerance <= seizure_date <= operation.planned_end + tolerance
    ):
        errors["seizure_date"] = _(
            "The date must fall within the operation (%(start)s to %(end)s, give or take "
            "%(days)d days)."
        ) % {
            "start": operation.planned_start.isoformat(),
            "end": operation.planned_end.isoformat(),
            "days": settings.SEIZURE_DATE_TOLERANCE_DAYS,
        }
    cleaned["seizure_date"] = seizure_date


def _clean_countries(data: dict, cleaned: dict, errors: dict) -> None:
    for field in ("reporting_country", "departure_country", "destination_country"):
        value = _text(data.get(field)).upper()
        if value and not is_country(value):
            errors[field] = _("“%(value)s” is not an ISO 3166 country code.") % {
                "value": value[:10]
            }
        cleaned[field] = value
    transit = _countries(data.get("transit_countries"))
    if transit is None or any(not is_country(code) for code in transit):
        errors["transit_countries"] = _("List ISO 3166 country codes, separated by commas.")
    else:
        cleaned["transit_countries"] = list(dict.fromkeys(transit))


def _clean_quantity(data: dict, cleaned: dict, errors: dict) -> None:
    quantity = _decimal(data.get("quantity"), "quantity", errors, places=3)
    if quantity is not None:
        if quantity <= 0:
            errors["quantity"] = _("The quantity must be more than zero.")
        cleaned["quantity"] = quantity


def _check_unit_fits_category(cleaned: dict, errors: dict) -> None:
    category, unit = cleaned.get("commodity_category"), cleaned.get("unit")
    if category and unit and unit not in UNITS_BY_CATEGORY[category]:
        errors["unit"] = _("%(unit)s is not a unit for %(category)s; use one of: %(units)s.") % {
            "unit": Unit(unit).label,
            "category": CommodityCategory(category).label,
            "units": ", ".join(str(Unit(u).label) for u in UNITS_BY_CATEGORY[category]),
        }


def _clean_hs_code(data: dict, cleaned: dict, errors: dict) -> None:
    hs_code = _text(data.get("hs_code")).replace(".", "").replace(" ", "")
    if hs_code and not HS_CODE.match(hs_code):
        errors["hs_code"] = _("An HS code has 4 to 10 digits.")
    cleaned["hs_code"] = hs_code


def _clean_value_and_currency(data: dict, cleaned: dict, errors: dict) -> None:
    value = _decimal(data.get("estimated_value"), "estimated_value", errors, places=2)
    if value is not None and value < 0:
        errors["estimated_value"] = _("The value cannot be negative.")
    cleaned["estimated_value"] = value
    currency = _text(data.get("currency")).upper()
    if currency and not is_currency(currency):
        errors["currency"] = _("“%(value)s” is not an ISO 4217 currency code.") % {
            "value": currency[:10]
        }
    elif value is not None and not currency:
        errors["currency"] = _("Give the currency of the estimated value.")
    cleaned["currency"] = currency


def _check_route(cleaned: dict, errors: dict) -> None:
    departure, destination = cleaned.get("departure_country"), cleaned.get("destination_country")
    direction = cleaned.get("direction")
    if departure and destination and departure == destination and direction != Direction.DOMESTIC:
        errors["destination_country"] = _(
            "Departure and destination are the same country: choose the direction “Domestic” "
            "or correct one of them."
        )


def _clean_offenders(data: dict, cleaned: dict, errors: dict) -> None:
    offenders = _text(data.get("offenders_count"))
    if not offenders:
        cleaned["offenders_count"] = None
    elif not (offenders.isascii() and offenders.isdigit()) or int(offenders) > 100000:
        errors["offenders_count"] = _("Enter a whole number of offenders (0 or more).")
    else:
        cleaned["offenders_count"] = int(offenders)


def parse_client_uuid(value) -> uuid.UUID:
    try:
        return uuid.UUID(_text(value))
    except ValueError:
        raise Invalid(
            {"client_uuid": _("client_uuid must be a UUID made by the client.")}
        ) from None
