"""ISO 3166 countries and ISO 4217 currencies, from pycountry (maintained, not hand-typed)."""

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language

from core.collation import sorted_by_name

_iso3166 = pycountry.countries

# Names pycountry's catalogue of a language lacks (a country renamed since it was
# translated), so that no name is left in English in a list in another script.
MISSING_NAMES = {("ar", "TR"): "تركيا"}


def is_country(code: str) -> bool:
    return (
        isinstance(code, str) and len(code) == 2 and _iso3166.get(alpha_2=code.upper()) is not None
    )


def is_currency(code: str) -> bool:
    return (
        isinstance(code, str)
        and len(code) == 3
        and pycountry.currencies.get(alpha_3=code.upper()) is not None
    )


@cache
def _translated_countries(language: str) -> tuple[tuple[str, str], ...]:
    try:
        catalog = gettext.translation(
            "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
        )
    except OSError:
        catalog = gettext.NullTranslations()
    names = [
        (
            country.alpha_2,
            MISSING_NAMES.get((language, country.alpha_2)) or catalog.gettext(country.name),
        )
        for country in _iso3166
    ]
    return tuple(sorted_by_name(names, lambda item: item[1]))


def country_choices() -> tuple[tuple[str, str], ...]:
    """Countries named in the current language, in that language's order of names
    (core/collation.py): every list of countries on the platform comes from here."""
    return _translated_countries((get_language() or "en").split("-")[0])


def country_name(code: str) -> str:
    return dict(country_choices()).get((code or "").upper(), code or "")


@cache
def currency_choices() -> tuple[tuple[str, str], ...]:
    return tuple(
        sorted(
            (
                (currency.alpha_3, f"{currency.alpha_3} — {currency.name}")
                for currency in pycountry.currencies
            ),
        )
    )
