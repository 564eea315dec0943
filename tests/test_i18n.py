"""Every user-facing string is translated, and the catalogs are in step with the code."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.urls import reverse

from tests.live import ROOT

PLACEHOLDER = r"%\(\w+\)[sd]"
LANGUAGES = [code for code, _name in settings.LANGUAGES if code != "en"]


def translations(entry: polib.POEntry) -> list[str]:
    """The translated texts of an entry: one, or one per plural form."""
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(ROOT / "locale" / language / "LC_MESSAGES" / "django.po"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_entry_is_translated_and_none_is_fuzzy(language):
    import re

    entries = [entry for entry in catalog(language) if not entry.obsolete]
    untranslated = [
        entry.msgid for entry in entries if not all(text.strip() for text in translations(entry))
    ]
    fuzzy = [entry.msgid for entry in entries if "fuzzy" in entry.flags]
    assert untranslated == [], f"untranslated in {language}"
    assert fuzzy == [], f"fuzzy in {language}"
    broken = []
    for entry in entries:
        wanted = set(re.findall(PLACEHOLDER, entry.msgid))
        if entry.msgid_plural:
            wanted |= set(re.findall(PLACEHOLDER, entry.msgid_plural))
        for text in translations(entry):
            found = set(re.findall(PLACEHOLDER, text))
            # A plural form may leave out the count ("one seizure"), never add a name.
            if not found <= wanted or (not entry.msgid_plural and found != wanted):
                broken.append(entry.msgid)
    assert broken == [], f"placeholders changed in {language}"
    assert not catalog(language).metadata_is_fuzzy


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_holds_every_string_of_the_code(language, tmp_path):
    if shutil.which("xgettext") is None:
        pytest.fail(
            "xgettext is missing: install gettext (the test command does: apt-get install gettext)"
        )
    for folder in (
        "cencomm",
        "core",
        "demo",
        "groups",
        "messaging",
        "operations",
        "templates",
        "locale",
    ):
        shutil.copytree(
            ROOT / folder, tmp_path / folder, ignore=shutil.ignore_patterns("__pycache__", "*.mo")
        )
    shutil.copy(ROOT / "manage.py", tmp_path / "manage.py")
    result = subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", language, "--no-obsolete"],
        cwd=tmp_path,
        env={
            "PATH": "/usr/bin:/bin",
            "DEBUG": "1",
            "CENCOMM_VAR_DIR": str(tmp_path / "var"),
            "PYTHONPATH": str(ROOT),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    extracted = {
        entry.msgid
        for entry in polib.pofile(str(tmp_path / "locale" / language / "LC_MESSAGES" / "django.po"))
    }
    committed = {entry.msgid: entry for entry in catalog(language)}
    missing = sorted(
        msgid
        for msgid in extracted
        if msgid
        and (
            msgid not in committed
            or not all(text.strip() for text in translations(committed[msgid]))
        )
    )
    assert missing == [], (
        f"strings in the code without a {language} translation: run makemessages -l {language}"
    )


def test_the_compiled_catalogs_are_used(client, db):
    assert Path(ROOT / "locale" / "fr" / "LC_MESSAGES" / "django.mo").exists()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fr"
    page = client.get(reverse("login")).content.decode()
    assert "Se connecter" in page and "Mot de passe" in page
