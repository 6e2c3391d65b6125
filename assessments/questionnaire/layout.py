"""The questionnaire's layout, shared by the download (build) and the upload: sheet names,
columns, how an answer's values read in a cell, and the HMAC that signs a file's metadata."""

from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from assessments import levels
from assessments.limits import ANSWER_TEXT_MAX_LENGTHS
from assessments.models import Answer
from assessments.spreadsheets import SpreadsheetError

FORMAT = 1
SHEET = "回答"
META_SHEET = "_meta"
HMAC_SALT = "egov-assess.questionnaire"
FIRST_ROW = 10  # the header is on row 9; rows 1–8 are the cover
HEADER_ROW = FIRST_ROW - 1
META_CHUNK = 30_000  # a cell holds at most 32,767 characters

# Answer fields in column order: (key, column label, width). Level and 該当なし share "level".
LABEL_COLUMNS = (("ref", "参照番号", 12), ("title", "項目", 34), ("guidance", "解説", 40),
                 ("descriptions", "レベルの説明", 48))  # fmt: skip
ANSWER_COLUMNS = (
    ("level", "レベル", 16),
    ("not_applicable_reason", "該当なしの理由", 24),
    ("note", "備考", 36),
    ("department", "担当部署", 16),
    ("target_level", "目標レベル", 16),
    ("target_fiscal_year", "目標年度", 10),
    ("improvement_plan", "改善計画", 40),
)
ANSWER_LABELS = {key: label for key, label, _w in ANSWER_COLUMNS}  # translated where shown
TEXT_FIELDS = ("not_applicable_reason", "note", "department", "improvement_plan")
MAX_LENGTHS = ANSWER_TEXT_MAX_LENGTHS


class QuestionnaireError(SpreadsheetError):
    """The file is refused as a whole (not ours, tampered, another body's, unreadable)."""


def column_labels() -> list[str]:
    return [label for _key, label, _w in LABEL_COLUMNS + ANSWER_COLUMNS]


def answer_column(key: str) -> int:
    keys = [k for k, _l, _w in LABEL_COLUMNS + ANSWER_COLUMNS]
    return keys.index(key) + 1


def answer_values(answer: Answer | None) -> dict:
    """The answer as the questionnaire shows it: level is 0–4, "na" or None."""
    if answer is None:
        return {
            "level": None,
            "not_applicable_reason": "",
            "note": "",
            "department": "",
            "target_level": None,
            "target_fiscal_year": None,
            "improvement_plan": "",
        }
    return {
        "level": levels.choice_of(answer),
        "not_applicable_reason": answer.not_applicable_reason,
        "note": answer.note,
        "department": answer.department,
        "target_level": answer.target_level,
        "target_fiscal_year": answer.target_fiscal_year,
        "improvement_plan": answer.improvement_plan,
    }


def display_value(key: str, value) -> str:
    """How a value reads in the preview (and in the cell)."""
    if key == "level":
        return levels.choice_label(value)
    if value is None or value == "":
        return _("（空欄）")
    if key == "target_level":
        return levels.level_label(value)
    return str(value)


def sign(payload: str) -> str:
    return salted_hmac(HMAC_SALT, payload, algorithm="sha256").hexdigest()
