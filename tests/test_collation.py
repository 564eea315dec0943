"""Lists of names read in each language's order: countries, administrations, members."""

import pytest
from django.conf import settings
from django.utils import translation

from core.collation import collation_key, sorted_by_name
from groups.models import Administration, Region, Role
from groups.selectors import administrations_with_candidates, group_members
from groups.services import membership_add
from operations.countries import country_choices

LANGUAGES = [code for code, _name in settings.LANGUAGES]


def names_in(language: str) -> list[tuple[str, str]]:
    with translation.override(language):
        return list(country_choices())


@pytest.mark.parametrize("language", LANGUAGES)
def test_turkiye_comes_after_afghanistan_in_every_language(language):
    codes = [code for code, _name in names_in(language)]
    assert codes.index("AF") < codes.index("TR")
    # Afghanistan is among the names of the first letter in every alphabet here.
    assert codes.index("AF") < 20


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_country_list_is_in_the_languages_order_and_in_its_script(language):
    names = [name for _code, name in names_in(language)]
    assert names == sorted(names, key=collation_key)
    assert len(names) == len(set(names)) == 249
    if language in ("ru", "ar"):
        # No name left in Latin letters in a list written in another script.
        latin = [name for name in names if name[0].isascii() or name[0] in "ÅÄÖÜÉÈ"]
        assert latin == []


@pytest.mark.parametrize(
    ("language", "ordered"),
    [
        # Accents count after the letters: É sorts with E, not after Z.
        ("fr", ["Égypte", "Espagne", "Estonie", "États-Unis", "Éthiopie", "Fidji"]),
        ("en", ["Afghanistan", "Åland Islands", "Albania"]),
        ("es", ["España", "Estados Unidos", "Etiopía", "Filipinas"]),
        ("pt", ["Austrália", "Áustria", "Azerbaijão"]),
        ("ru", ["Австралия", "Австрия", "Египет", "Эфиопия", "Япония"]),
        # Every form of alef together, before bā'.
        ("ar", ["آيسلندا", "أفغانستان", "إثيوبيا", "باكستان"]),
    ],
)
def test_accents_and_letters_sort_by_the_languages_rules(language, ordered):
    names = [name for _code, name in names_in(language)]
    positions = [names.index(name) for name in ordered]
    assert positions == sorted(positions)


def test_the_arabic_list_names_turkiye_in_arabic():
    assert dict(names_in("ar"))["TR"] == "تركيا"
    assert dict(names_in("en"))["TR"] == "Türkiye"


def test_sorted_by_name_is_stable_across_case_and_accents():
    assert sorted_by_name(["zèbre", "Zebra", "zebra", "Zèbre", "abc"]) == [
        "abc",
        "zebra",
        "Zebra",
        "zèbre",
        "Zèbre",
    ]


@pytest.mark.django_db
def test_administrations_and_members_are_listed_by_name(world, make_user):
    for country, name in [
        ("SE", "Tullverket"),
        ("AT", "Österreichischer Zoll"),
        ("IS", "Íslensk tollur"),
    ]:
        Administration.objects.update_or_create(
            country=country, defaults={"name": name, "region": Region.EUROPE}
        )
        make_user(f"officer.{country.lower()}", country=country)
    names = [a.name for a in administrations_with_candidates(group=world.group)]
    assert names == sorted(names, key=collation_key)
    assert (
        names.index("Íslensk tollur")
        < names.index("Österreichischer Zoll")
        < names.index("Tullverket")
    )

    for username, first, last in [("zed", "Émile", "Zola"), ("amy", "Zoé", "Adam")]:
        user = make_user(username, country="FR", first_name=first, last_name=last)
        membership_add(group=world.group, user=user, role=Role.MEMBER, added_by=world.ocu)
    members = [m for m in group_members(group=world.group) if m.role == Role.MEMBER]
    shown = [m.user.get_full_name() or m.user.username for m in members]
    assert shown == sorted(shown, key=collation_key)
    assert shown.index("Émile Zola") < shown.index("officer.de") < shown.index("Zoé Adam")
