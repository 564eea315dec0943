"""ISO 3166 countries and ISO 4217 currencies, from pycountry (maintained, not hand-typed)."""

import gettext
from functools import cache

import pycountry
from django.utils.translation import get_language

_iso3166 = pycountry.countries


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
    names = [(country.alpha_2, catalog.gettext(country.name)) for country in _iso3166]
    return tuple(sorted(names, key=lambda item: item[1]))


def country_choices() -> tuple[tuple[str, str], ...]:
    """Countries named in the current language, sorted by name."""
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
