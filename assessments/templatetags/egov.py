import datetime

from django import template
from django.utils import timezone
from django.utils.html import format_html_join

from assessments import fiscal_year as fy
from assessments import rounds, scoring
from assessments.form_html import (
    render_answer_fields,
    render_comment_fields,
    render_filter_fields,
)
from assessments.models import Assessment, Body, labels
from assessments.models.labels import label
from assessments.table_html import render_dashboard_rows

register = template.Library()


@register.filter
def status_label(status: str) -> str:
    """An assessment's status label from the map (models/labels.py), not get_status_display."""
    return label(Assessment.Status, status)


@register.filter
def display(obj, field_name: str):
    """`{{ answer|display:"level" }}`: the choice label of a field, as get_level_display gives
    it, from the map of models/labels.py (made once per field and language), not per row."""
    return labels.display(obj, field_name)


@register.filter
def kind_label(kind: str) -> str:
    """A body's kind label from the map (models/labels.py), not get_kind_display."""
    return label(Body.Kind, kind)


@register.simple_tag
def answer_fields(form):
    """An AnswerForm's fields (assessments/form_html.py: without crispy, for speed)."""
    return render_answer_fields(form)


@register.simple_tag
def filter_fields(form):
    """A dashboard FilterForm's fields (assessments/form_html.py: without crispy, for speed)."""
    return render_filter_fields(form)


@register.simple_tag(takes_context=True)
def dashboard_rows(context, rows, sections):
    """The dashboard table's rows (assessments/table_html.py: without per-cell template work)."""
    return render_dashboard_rows(rows, sections, context["user"])


@register.simple_tag
def comment_fields(form):
    """A ReviewCommentForm's fields (assessments/form_html.py: without crispy, for speed)."""
    return render_comment_fields(form)


@register.filter
def fiscal_year_label(year: int) -> str:
    """2026 → 2026年度（令和8年度）"""
    return fy.label(int(year))


@register.filter
def wareki(year: int) -> str:
    return fy.wareki(int(year))


@register.filter
def score(value) -> str:
    """A 0–100 score rounded once (scoring.rounded), "—" when nothing counts yet; a draft's
    Score reads "6.3（暫定・回答 12 / 35）"."""
    if isinstance(value, scoring.Score):
        return str(value)
    return scoring.display(value)


@register.filter
def percent(part, whole) -> str:
    return f"{scoring.percent(part, whole)}%"


@register.filter
def get_item(mapping, key):
    """{{ forms|get_item:code }}: a dictionary's value in a template (None when absent)."""
    return mapping.get(key) if mapping else None


@register.filter
def date_label(day) -> str:
    """2026年9月30日（令和8年9月30日）: a date in both calendars."""
    return fy.date_label(day) if day else ""


@register.filter
def wareki_date(day) -> str:
    """令和8年9月30日: a date (or a moment, in Japan's time) on an official document (和暦)."""
    if isinstance(day, datetime.datetime):
        day = timezone.localtime(day).date()
    return fy.wareki_date(day) if day else ""


@register.filter
def wareki_month(day) -> str:
    """平成15年8月."""
    return fy.wareki_month(day) if day else ""


@register.filter
def nobr(text) -> str:
    """Each space-separated word kept whole on a line: 「3 全庁的に運用」 breaks only at the space."""
    return format_html_join(" ", '<span class="nobr">{}</span>', ((w,) for w in str(text).split()))


@register.filter
def due_of(assessment):
    """The assessment's due state today (assessments.rounds.due_state), or None."""
    return rounds.due_state(assessment)
