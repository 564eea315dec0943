"""The vocabularies of the simplified seizure form, as data, translated.

One module: forms, the spreadsheet template, validation, the dashboard, the REST
schema of the seizure card and the CEN mapping all read from here. Plain data, no
behaviour: it sits in the kernel so that every layer may name the same words.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SeizureStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    VALIDATED = "validated", pgettext_lazy("seizure status", "Validated")
    REJECTED = "rejected", _("Rejected")


class CommodityCategory(models.TextChoices):
    DRUGS = "drugs", _("Drugs")
    PRECURSORS = "precursors", _("Precursors")
    TOBACCO = "tobacco", _("Tobacco")
    ALCOHOL = "alcohol", _("Alcohol")
    MEDICINES = "medicines", _("Medicines")
    IPR = "ipr", _("IPR / counterfeits")
    CITES = "cites", _("CITES / wildlife")
    ENVIRONMENT = "environment", _("Environment / waste")
    CULTURAL_HERITAGE = "cultural_heritage", _("Cultural heritage")
    WEAPONS = "weapons", _("Weapons / explosives")
    CURRENCY = "currency", _("Currency / cash")
    OTHER = "other", _("Other")


class LocationType(models.TextChoices):
    AIRPORT = "airport", _("Airport")
    SEAPORT = "seaport", _("Seaport")
    LAND_BORDER = "land_border", _("Land border")
    RAIL = "rail", _("Rail")
    POSTAL = "postal", _("Postal / express centre")
    INLAND = "inland", _("Inland")


class TransportMode(models.TextChoices):
    AIR = "air", _("Air")
    SEA = "sea", _("Sea")
    ROAD = "road", _("Road")
    RAIL = "rail", _("Rail")
    POSTAL = "postal", _("Postal")
    EXPRESS = "express", _("Express courier")
    PEDESTRIAN = "pedestrian", _("Pedestrian")


class DetectionMethod(models.TextChoices):
    RISK_PROFILING = "risk_profiling", _("Risk profiling")
    INTELLIGENCE = "intelligence", _("Intelligence")
    ROUTINE_CONTROL = "routine_control", _("Routine control")
    SCANNER = "scanner", _("X-ray / scanner")
    DETECTOR_DOG = "detector_dog", _("Detector dog")
    RANDOM_CHECK = "random_check", _("Random check")
    OTHER = "other", _("Other")


class Unit(models.TextChoices):
    KG = "kg", _("kg")
    G = "g", _("g")
    LITRE = "l", _("litre")
    PIECES = "pieces", _("pieces")
    STICKS = "sticks", _("sticks")
    PACKS = "packs", _("packs")
    UNITS = "units", _("units")


# Which units make sense for which category: a seizure of cigarettes is counted
# in sticks or packs, a seizure of cocaine in kilograms, never in litres of cash.
UNITS_BY_CATEGORY: dict[str, tuple[str, ...]] = {
    CommodityCategory.DRUGS: (Unit.KG, Unit.G, Unit.LITRE, Unit.UNITS),
    CommodityCategory.PRECURSORS: (Unit.KG, Unit.G, Unit.LITRE),
    CommodityCategory.TOBACCO: (Unit.KG, Unit.G, Unit.STICKS, Unit.PACKS, Unit.PIECES),
    CommodityCategory.ALCOHOL: (Unit.LITRE, Unit.UNITS, Unit.PIECES),
    CommodityCategory.MEDICINES: (Unit.KG, Unit.G, Unit.PIECES, Unit.PACKS, Unit.UNITS),
    CommodityCategory.IPR: (Unit.PIECES, Unit.UNITS, Unit.PACKS, Unit.KG),
    CommodityCategory.CITES: (Unit.KG, Unit.G, Unit.PIECES, Unit.UNITS),
    CommodityCategory.ENVIRONMENT: (Unit.KG, Unit.LITRE, Unit.UNITS, Unit.PIECES),
    CommodityCategory.CULTURAL_HERITAGE: (Unit.PIECES, Unit.UNITS),
    CommodityCategory.WEAPONS: (Unit.PIECES, Unit.UNITS, Unit.KG),
    CommodityCategory.CURRENCY: (Unit.UNITS,),
    CommodityCategory.OTHER: tuple(Unit.values),
}


class Direction(models.TextChoices):
    IMPORT = "import", pgettext_lazy("direction", "Import")
    EXPORT = "export", _("Export")
    TRANSIT = "transit", _("Transit")
    TRANSHIPMENT = "transhipment", _("Transhipment")
    DOMESTIC = "domestic", _("Domestic")


class Concealment(models.TextChoices):
    NOT_CONCEALED = "not_concealed", _("Not concealed")
    LUGGAGE = "luggage", _("In luggage")
    ON_BODY = "on_body", _("On the body")
    IN_BODY = "in_body", _("In the body")
    FALSE_COMPARTMENT = "false_compartment", _("False bottom or compartment")
    MIXED_WITH_CARGO = "mixed_with_cargo", _("Mixed with legitimate cargo")
    MISDECLARED = "misdeclared", _("Misdeclared goods")
    VEHICLE = "vehicle", _("In the vehicle structure")
    CONTAINER = "container", _("In the container structure")
    POSTAL_ITEM = "postal_item", _("In a postal item")
    INSIDE_OTHER_GOODS = "inside_other_goods", _("Inside other goods")
    OTHER = "other", _("Other")


class HandlingCode(models.TextChoices):
    """How an item of the group may be used: chosen by its author, the operation's
    default unless they choose otherwise."""

    H0 = "H0", _("H0 — no restriction within the operation")
    H1 = "H1", _("H1 — not to be used as evidence in court without the originator's permission")
    H2 = (
        "H2",
        _("H2 — not to be passed on outside the operation without the originator's permission"),
    )
    H3 = "H3", _("H3 — other conditions, stated")


class SourceGrading(models.TextChoices):
    """How reliable the source of a message is."""

    A = "A", _("A — completely reliable")
    B = "B", _("B — usually reliable")
    C = "C", _("C — fairly reliable")
    X = "X", _("X — cannot be judged")


class InformationGrading(models.TextChoices):
    """How far the information of a message is known to be true."""

    CONFIRMED = "1", _("1 — confirmed")
    KNOWN_TO_SOURCE = "2", _("2 — known personally to the source")
    CORROBORATED = "3", _("3 — not known personally but corroborated")
    NOT_JUDGED = "4", _("4 — cannot be judged")


# The conditions of an H3 item are a short text.
HANDLING_CONDITIONS_MAX_LENGTH = 200

HANDLING_VOCABULARIES = {
    "handling_code": HandlingCode,
    "source_grading": SourceGrading,
    "information_grading": InformationGrading,
}


VOCABULARIES = {
    "commodity_category": CommodityCategory,
    "location_type": LocationType,
    "transport_mode": TransportMode,
    "detection_method": DetectionMethod,
    "unit": Unit,
    "direction": Direction,
    "concealment": Concealment,
}


def vocabulary_labels() -> dict[str, dict[str, str]]:
    """Every vocabulary's labels in the current language, for the browser."""
    return {
        name: {value: str(label) for value, label in vocabulary.choices}
        for name, vocabulary in (VOCABULARIES | HANDLING_VOCABULARIES).items()
    }
