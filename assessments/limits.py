"""The longest text a user may store in each free-text field of an answer.

One table used by the model (validators), the forms, autosave and the questionnaire upload, so
every path refuses the same text with the same message. The limits also keep the PDF fast: a
report renders every measure's text, and WeasyPrint's time grows with the amount of it.
"""

from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

ANSWER_TEXT_MAX_LENGTHS = {
    "not_applicable_reason": 1000,
    "note": 2000,
    "department": 100,
    "improvement_plan": 2000,
}
EVIDENCE_URL_MAX_LENGTH = 500
REVIEW_COMMENT_MAX_LENGTH = 2000
TRANSITION_COMMENT_MAX_LENGTH = 4000

TOO_LONG = _("%(limit_value)s文字以内で入力してください（現在 %(show_value)s文字）。")


def max_length_validator(limit: int) -> MaxLengthValidator:
    """Django's validator with the app's message (the number typed and the limit)."""
    return MaxLengthValidator(limit, message=TOO_LONG)
