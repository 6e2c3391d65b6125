from django import template

from assessments import fiscal_year as fy

register = template.Library()


@register.filter
def fiscal_year_label(year: int) -> str:
    """2026 → 2026年度（令和8年度）"""
    return fy.label(int(year))


@register.filter
def wareki(year: int) -> str:
    return fy.wareki(int(year))


@register.filter
def score(value) -> str:
    """A 0–100 score with one decimal, or a dash when nothing counts yet (see the formula)."""
    if value is None:
        return "—"
    return f"{float(value):.1f}"


@register.filter
def percent(part, whole) -> str:
    if not whole:
        return "0%"
    return f"{100 * part / whole:.0f}%"
