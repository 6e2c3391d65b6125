"""The longest text a user may store in each free-text field of an answer, in characters and
in lines.

One table used by the model (validators), the forms, autosave and the questionnaire upload, so
every path refuses the same text with the same message. The limits also keep the PDF fast: a
report renders every measure's text, and WeasyPrint's time grows with the amount of it. Lines
count as well as characters: 2,000 characters of 「あ」 and a line break lay out as 1,000 lines,
and such a report was 1,547 pages and 50 times the time of a normal one (bench in issue 10).
"""

from django.core.validators import BaseValidator, MaxLengthValidator
from django.utils.deconstruct import deconstructible
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

# Lines of a multi-line field (a paragraph a line; far more than any real note needs).
ANSWER_TEXT_MAX_LINES = {
    "not_applicable_reason": 20,
    "note": 40,
    "improvement_plan": 40,
}
REVIEW_COMMENT_MAX_LINES = 40
TRANSITION_COMMENT_MAX_LINES = 80

TOO_LONG = _("%(limit_value)s文字以内で入力してください（現在 %(show_value)s文字）。")
TOO_MANY_LINES = _("改行は%(limit_value)s行以内にしてください（現在 %(show_value)s行）。")


def line_count(text: str) -> int:
    """Lines as a reader sees them ("a\r\nb" and "a\nb" are two; "" is none)."""
    if not text:
        return 0
    return text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1


@deconstructible
class MaxLinesValidator(BaseValidator):
    message = TOO_MANY_LINES
    code = "max_lines"

    def compare(self, a: int, b: int) -> bool:
        return a > b

    def clean(self, x: str) -> int:
        return line_count(x)


def max_length_validator(limit: int) -> MaxLengthValidator:
    """Django's validator with the app's message (the number typed and the limit)."""
    return MaxLengthValidator(limit, message=TOO_LONG)


def max_lines_validator(limit: int) -> MaxLinesValidator:
    return MaxLinesValidator(limit)


def text_validators(field: str) -> list[BaseValidator]:
    """The validators of an answer's free-text field: its characters and, if multi-line, lines."""
    validators: list[BaseValidator] = [max_length_validator(ANSWER_TEXT_MAX_LENGTHS[field])]
    if field in ANSWER_TEXT_MAX_LINES:
        validators.append(max_lines_validator(ANSWER_TEXT_MAX_LINES[field]))
    return validators


def text_problem(field: str, text: str) -> str | None:
    """Why `text` cannot be stored in the answer's `field` (the validators' message), or None."""
    for validator in text_validators(field):
        limit, shown = validator.limit_value, validator.clean(text)
        if validator.compare(shown, limit):
            return str(validator.message) % {"limit_value": limit, "show_value": shown}
    return None
