"""Japanese fiscal years (年度: April 1 – March 31) shown in 西暦 and 和暦."""

import datetime

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

# (first day of the era, name in Japanese, name in English)
_ERAS = (
    (datetime.date(2019, 5, 1), "令和", "Reiwa"),
    (datetime.date(1989, 1, 8), "平成", "Heisei"),
    (datetime.date(1926, 12, 25), "昭和", "Showa"),
)

MIN_FISCAL_YEAR = 2000
MAX_FISCAL_YEAR = 2100


def fiscal_year_of(day: datetime.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def first_day(fiscal_year: int) -> datetime.date:
    """April 1 of the fiscal year: MIC's 基準日 for a survey of that year."""
    return datetime.date(fiscal_year, 4, 1)


def current_fiscal_year() -> int:
    return fiscal_year_of(timezone.localdate())


def era_of_fiscal_year(fiscal_year: int) -> tuple[str, str, int]:
    """Return (era ja, era en, year in era) for a fiscal year, named by the era on its April 1.

    FY2019 began on 2019-04-01 under 平成 but is commonly called 令和元年度, so the era is taken
    on the fiscal year's last day instead (March 31 of the following year).
    """
    last_day = datetime.date(fiscal_year + 1, 3, 31)
    for start, ja, en in _ERAS:
        if last_day >= start:
            return ja, en, fiscal_year - start.year + 1
    raise ValueError(fiscal_year)


def wareki(fiscal_year: int) -> str:
    """令和8年度 for 2026; 令和元年度 for 2019; 'FY Reiwa 8' in English."""
    ja, en, year = era_of_fiscal_year(fiscal_year)
    if (get_language() or "ja").startswith("en"):
        return f"FY {en} {year}"
    return f"{ja}{'元' if year == 1 else year}年度"


def label(fiscal_year: int) -> str:
    """'2026年度（令和8年度）' — both calendars, as users expect to see them."""
    return _("%(year)s年度（%(wareki)s）") % {"year": fiscal_year, "wareki": wareki(fiscal_year)}


def era_of_date(day: datetime.date) -> tuple[str, str, int]:
    """(era ja, era en, year in era) of a calendar date: 2026-09-30 → ("令和", "Reiwa", 8)."""
    for start, ja, en in _ERAS:
        if day >= start:
            return ja, en, day.year - start.year + 1
    raise ValueError(day)


def wareki_date(day: datetime.date) -> str:
    """令和8年9月30日 (令和元年5月1日); 'Reiwa 8, 9/30' in English."""
    ja, en, year = era_of_date(day)
    if (get_language() or "ja").startswith("en"):
        return f"{en} {year}, {day.month}/{day.day}"
    return f"{ja}{'元' if year == 1 else year}年{day.month}月{day.day}日"


def wareki_month(day: datetime.date) -> str:
    """平成15年8月 (for a guideline's date of issue); 'Heisei 15, 8' in English."""
    ja, en, year = era_of_date(day)
    if (get_language() or "ja").startswith("en"):
        return f"{en} {year}/{day.month} ({day.year}-{day.month:02d})"
    return f"{ja}{'元' if year == 1 else year}年{day.month}月"


def date_label(day: datetime.date) -> str:
    """'2026年9月30日（令和8年9月30日）' — a date in both calendars; '2026-09-30 (Reiwa 8, 9/30)'."""
    if (get_language() or "ja").startswith("en"):
        return f"{day.isoformat()} ({wareki_date(day)})"
    return f"{day.year}年{day.month}月{day.day}日（{wareki_date(day)}）"
