"""Names sorted the way their readers sort them, in every language of the platform.

Python's ``sorted`` orders by code point: "Éthiopie" after "Zambie", "Åland" after
everything, a Latin name before every Arabic one. Lists that people read — countries,
administrations, members — are sorted here instead, by the Unicode Collation Algorithm
(pyuca, pure Python: the default collation of CLDR, on which French, Spanish,
Portuguese, English, Russian and Arabic all agree for names: accents and case count
only after the letters, hamza forms of alef sort together). The browser does the same
with ``Intl.Collator`` in the page's language (static/js/formats.js).
"""

from collections.abc import Callable, Iterable
from functools import cache
from typing import TypeVar

from pyuca import Collator

T = TypeVar("T")


@cache
def _collator() -> Collator:
    return Collator()  # reads the Unicode collation table once per process


def collation_key(text: str) -> tuple:
    """A sort key for ``text``; ties (same letters, different accents or case) are
    broken by the text itself, so the order never depends on the input's."""
    text = text or ""
    return (_collator().sort_key(text.casefold()), _collator().sort_key(text), text)


def sorted_by_name(items: Iterable[T], name: Callable[[T], str] = str) -> list[T]:
    """``items`` in the reader's order of their names."""
    return sorted(items, key=lambda item: collation_key(name(item)))
