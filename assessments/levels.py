"""The vocabulary of an answer: a level of the maturity scale, or 該当なし with a reason.

Every place that reads, writes, shows or checks an answer's level uses what is defined here:
the web form, the autosave, the questionnaire, the PDF, the exports and the answer service.
A *choice* is the level and 該当なし in one value: 0–4, NOT_APPLICABLE ("na") or None.
"""

from typing import Protocol

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

MAX_LEVEL = 4
# The choice standing for 該当なし in forms, autosave requests, the questionnaire and tables.
NOT_APPLICABLE = "na"

Choice = int | str | None


class Level(models.IntegerChoices):
    """The maturity scale shared by every measure; each measure describes its own levels."""

    NOT_STARTED = 0, _("0 未着手")
    PLANNING = 1, _("1 検討・計画中")
    PARTIAL = 2, _("2 一部実施")
    OPERATING = 3, _("3 全庁的に運用")
    IMPROVING = 4, _("4 評価・改善")


NOT_APPLICABLE_LABEL = _("該当なし")
REASON_REQUIRED = _("「該当なし」を選んだときは、その理由を入力してください。")


class HasLevel(Protocol):
    level: int | None
    not_applicable: bool


def choice_of(answer: HasLevel | None) -> Choice:
    """The answer's level as one choice: 0–4, NOT_APPLICABLE or None (unanswered)."""
    if answer is None:
        return None
    return NOT_APPLICABLE if answer.not_applicable else answer.level


def fields_of(choice: Choice) -> dict:
    """{"not_applicable", "level"} for a choice (0–4 as int or text, NOT_APPLICABLE, empty)."""
    not_applicable = choice == NOT_APPLICABLE
    return {
        "not_applicable": not_applicable,
        "level": None if not_applicable or choice in (None, "") else int(choice),
    }


def level_label(level: int) -> str:
    return str(Level(level).label)


def choice_label(choice: Choice) -> str:
    """How a choice reads: 「2 一部実施」, 「該当なし」, or 「未回答」."""
    if choice is None or choice == "":
        return gettext("未回答")
    if choice == NOT_APPLICABLE:
        return str(NOT_APPLICABLE_LABEL)
    return level_label(int(choice))


def level_labels(*, with_not_applicable: bool = True) -> list[str]:
    """The level names in order (0 未着手 … 4 評価・改善), then 該当なし if asked."""
    labels = [str(label) for _value, label in Level.choices]
    return labels + [str(NOT_APPLICABLE_LABEL)] if with_not_applicable else labels


def columns() -> list[tuple[int | str, str]]:
    """(choice, label) for each level, then 該当なし: the columns of every level table."""
    return [(value, str(label)) for value, label in Level.choices] + [
        (NOT_APPLICABLE, str(NOT_APPLICABLE_LABEL))
    ]


def validate_reason(choice: Choice, reason: str) -> None:
    """Refuse 該当なし without a reason (the one rule every path checks, with one message)."""
    if choice == NOT_APPLICABLE and not (reason or "").strip():
        raise ValidationError({"not_applicable_reason": REASON_REQUIRED}, code="reason_required")


def is_not_applicable_text(text: str) -> bool:
    """Whether a cell's text means 該当なし: the label in Japanese or in the active language."""
    with translation.override("ja"):
        japanese = str(NOT_APPLICABLE_LABEL)
    return text in (japanese, str(NOT_APPLICABLE_LABEL))
