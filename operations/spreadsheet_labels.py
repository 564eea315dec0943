"""The words of a seizure sheet: its columns and allowed values as people read them.

The template and the export show labels in the reader's language; an import reads
them back in any of the platform's languages (a sheet filled in French imports on a
server that speaks English), and the codes themselves as well. Labels are compared
loosely: case and spaces do not matter.
"""

from functools import cache

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.vocabularies import VOCABULARIES

from .countries import country_choices, currency_choices
from .seizure_rules import FIELDS

COLUMN_LABELS = {
    "seizure_date": _("Date of seizure"),
    "reporting_country": _("Reporting country"),
    "place": _("Place"),
    "location_type": _("Type of location"),
    "transport_mode": _("Means of transport"),
    "detection_method": _("Detection method"),
    "commodity_category": _("Commodity category"),
    "commodity_description": _("Commodity description"),
    "quantity": _("Quantity"),
    "unit": _("Unit"),
    "direction": _("Direction"),
    "hs_code": _("HS code"),
    "estimated_value": _("Estimated value"),
    "currency": _("Currency"),
    "departure_country": _("Country of departure"),
    "destination_country": _("Country of destination"),
    "transit_countries": _("Transit countries"),
    "concealment": _("Concealment"),
    "concealment_details": _("Concealment details"),
    "offenders_count": _("Number of offenders"),
    "client_uuid": pgettext_lazy("spreadsheet column", "Row identifier"),
    "status": _("Status"),
    "rejection_reason": _("Reason for rejection"),
    "reporting_administration": pgettext_lazy("spreadsheet column", "Reporting administration"),
    "handling_code": _("Handling code"),
}
COUNTRY_COLUMNS = ("reporting_country", "departure_country", "destination_country")
# The seizure sheet's own title, in the reader's language; any of them is recognised.
SHEET_TITLE = pgettext_lazy("spreadsheet sheet", "Seizures")


def fold(text: str) -> str:
    """A label as compared: without case and with single spaces."""
    return " ".join(str(text).split()).casefold()


def column_label(name: str) -> str:
    """The column's label in the current language (its code when it has none)."""
    return str(COLUMN_LABELS.get(name, name)) if name else ""


def choices_of(name: str) -> list[tuple[str, str]]:
    """The allowed values of a column with a drop-down list, as (code, label) in the
    current language; empty for a column of free text."""
    if name in VOCABULARIES:
        return [(value, str(label)) for value, label in VOCABULARIES[name].choices]
    if name in COUNTRY_COLUMNS:
        return [(code, f"{country} ({code})") for code, country in country_choices()]
    if name == "currency":
        return list(currency_choices())
    return []


def _languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


@cache
def _header_names() -> dict[str, str]:
    names = {fold(name): name for name in [*FIELDS, *COLUMN_LABELS]}
    names["uuid"] = "client_uuid"  # the export's id column before it was named as the template's
    for language in _languages():
        with translation.override(language):
            names.update({fold(label): name for name, label in COLUMN_LABELS.items()})
    return names


def header_name(text: str) -> str | None:
    """The column a header cell names, in any language or as its code; None when it
    names none."""
    return _header_names().get(fold(text))


@cache
def sheet_titles() -> frozenset[str]:
    titles = {"seizures"}
    for language in _languages():
        with translation.override(language):
            titles.add(fold(SHEET_TITLE))
    return frozenset(titles)


@cache
def _codes(name: str) -> dict[str, str]:
    """Every way of writing an allowed value of the column, folded, to its code. A text
    that would mean two codes (the same word in two languages) means neither."""
    codes: dict[str, str] = {}
    ambiguous: set[str] = set()
    for language in _languages():
        with translation.override(language):
            for code, label in choices_of(name):
                for text in (fold(code), fold(label)):
                    if codes.setdefault(text, code) != code:
                        ambiguous.add(text)
            if name in COUNTRY_COLUMNS:
                for code, country in country_choices():
                    if codes.setdefault(fold(country), code) != code:
                        ambiguous.add(fold(country))
    for text in ambiguous:
        codes.pop(text, None)
    return codes


def to_codes(row: dict) -> dict:
    """The row with each label of a drop-down column replaced by its code; what is no
    label is left as written, for the rules to refuse."""
    converted = dict(row)
    for name, value in row.items():
        if value and (name in VOCABULARIES or name in COUNTRY_COLUMNS or name == "currency"):
            converted[name] = _codes(name).get(fold(value), value)
    return converted
