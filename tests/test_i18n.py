"""English is available for every message of the interface."""

import re

from django.conf import settings
from django.utils import translation

from assessments import fiscal_year as fy
from assessments.models import Assessment

PO_FILE = settings.BASE_DIR / "locale" / "en" / "LC_MESSAGES" / "django.po"


def untranslated_msgids(text: str) -> list[str]:
    """msgids (after the header) whose msgstr is empty: `msgstr ""` not followed by a string."""
    entries = text.split("\n\n")[1:]
    missing = []
    for entry in entries:
        if entry.lstrip().startswith("#~"):
            continue
        if re.search(r'msgstr(?:\[\d\])? ""\n(?!")', entry + "\n"):
            missing.append(entry.split("msgid ", 1)[1].split("\n", 1)[0])
    return missing


def test_every_message_has_an_english_translation():
    assert untranslated_msgids(PO_FILE.read_text(encoding="utf-8")) == []


def test_the_interface_switches_to_english():
    with translation.override("en"):
        assert str(Assessment.Status.SUBMITTED.label) == "Submitted"
        assert fy.label(2026) == "FY2026 (FY Reiwa 8)"
    with translation.override("ja"):
        assert fy.label(2026) == "2026年度（令和8年度）"
